import Parallel

/// One key of the config schema: its path, what it means, and how its value moves between a
/// config entry (file line or option), a `RunConfig` field and the YAML of a resolved config.
public struct ConfigKey {
    /// Dotted path, e.g. `training.lr` (`out` has no section).
    public let path: String
    /// What the setting does, in words (help texts and the README).
    public let doc: String
    /// What an unset value means where there is no built-in default (e.g. "no clipping").
    public let unset: String?
    /// Paths are resolved against the config file's folder and written relative to it.
    let isPath: Bool
    let read: (ConfigReader.Entry, inout RunConfig) throws -> Void
    /// The value as YAML text (paths relative to `folder`); nil when unset.
    let yaml: (RunConfig, _ folder: String) -> String?
    /// The value, type-erased (nil when unset), and its setter: to copy values between configs
    /// and sections of the same type.
    let get: (RunConfig) -> Any?
    let set: (inout RunConfig, Any?) -> Void

    /// The section (`training`), or "" for `out`.
    public var section: String { path.contains(".") ? String(path.prefix { $0 != "." }) : "" }
    /// The key inside its section (`lr`).
    public var name: String { String(path.split(separator: ".").last!) }

    /// Whether `config` sets this key.
    public func isSet(in config: RunConfig) -> Bool { get(config) != nil }

    /// The value as shown in help texts and messages (paths relative to the working directory).
    public func display(in config: RunConfig) -> String? {
        if isPath { return yaml(config, ConfigPath.resolve(".")).map { $0.replacingOccurrences(of: "\"", with: "") } }
        return yaml(config, "/")
    }

    /// Sets this key of `config` to its value in `other`, with `other`'s source (unset stays unset).
    func copy(from other: RunConfig, into config: inout RunConfig) {
        set(&config, get(other))
        config.sources[path] = other.sources[path]
    }
}

extension ConfigKey {
    static func number<T: LosslessStringConvertible>(_ path: String, _ field: WritableKeyPath<RunConfig, T?>,
                                                     _ rule: ConfigReader.Rule<T>, _ doc: String,
                                                     unset: String? = nil) -> ConfigKey {
        ConfigKey(path: path, doc: doc, unset: unset, isPath: false,
                  read: { e, c in c[keyPath: field] = try ConfigReader.number(e, path, rule) },
                  yaml: { c, _ in c[keyPath: field].map { "\($0)" } },
                  get: { $0[keyPath: field] }, set: { $0[keyPath: field] = $1 as? T })
    }

    static func bool(_ path: String, _ field: WritableKeyPath<RunConfig, Bool?>, _ doc: String) -> ConfigKey {
        ConfigKey(path: path, doc: doc, unset: nil, isPath: false,
                  read: { e, c in c[keyPath: field] = try ConfigReader.bool(e, path) },
                  yaml: { c, _ in c[keyPath: field].map { $0 ? "true" : "false" } },
                  get: { $0[keyPath: field] }, set: { $0[keyPath: field] = $1 as? Bool })
    }

    static func text(_ path: String, _ field: WritableKeyPath<RunConfig, String?>, expected: String, _ doc: String,
                     unset: String? = nil) -> ConfigKey {
        ConfigKey(path: path, doc: doc, unset: unset, isPath: false,
                  read: { e, c in c[keyPath: field] = try ConfigReader.string(e, path, expected: expected) },
                  yaml: { c, _ in c[keyPath: field].map(quoted) },
                  get: { $0[keyPath: field] }, set: { $0[keyPath: field] = $1 as? String })
    }

    static func path(_ path: String, _ field: WritableKeyPath<RunConfig, String?>, expected: String, _ doc: String,
                     unset: String? = nil) -> ConfigKey {
        ConfigKey(path: path, doc: doc, unset: unset, isPath: true,
                  read: { e, c in c[keyPath: field] = try ConfigReader.path(e, path, expected: expected) },
                  yaml: { c, folder in c[keyPath: field].map { quoted(ConfigPath.relative($0, from: folder)) } },
                  get: { $0[keyPath: field] }, set: { $0[keyPath: field] = $1 as? String })
    }

    static func paths(_ path: String, _ field: WritableKeyPath<RunConfig, [String]?>, expected: String,
                      _ doc: String) -> ConfigKey {
        ConfigKey(path: path, doc: doc, unset: nil, isPath: true,
                  read: { e, c in c[keyPath: field] = try ConfigReader.paths(e, path, expected: expected) },
                  yaml: { c, folder in
                      c[keyPath: field].map { "[" + $0.map { quoted(ConfigPath.relative($0, from: folder)) }
                          .joined(separator: ", ") + "]" }
                  },
                  get: { $0[keyPath: field] }, set: { $0[keyPath: field] = $1 as? [String] })
    }

    static func choice<E: RawRepresentable & CaseIterable>(_ path: String, _ field: WritableKeyPath<RunConfig, E?>,
                                                           _ doc: String, unset: String? = nil) -> ConfigKey
    where E.RawValue == String {
        ConfigKey(path: path, doc: doc + " (" + E.allCases.map(\.rawValue).joined(separator: ", ") + ")", unset: unset,
                  isPath: false,
                  read: { e, c in c[keyPath: field] = try ConfigReader.choice(e, path) as E },
                  yaml: { c, _ in c[keyPath: field].map(\.rawValue) },
                  get: { $0[keyPath: field] }, set: { $0[keyPath: field] = $1 as? E })
    }

    /// A YAML double-quoted string (JSON escapes are valid YAML).
    static func quoted(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }
}

/// The config schema: every key of every section, once. Reading files and options, the help
/// texts, the defaults shown there and the resolved `config.yaml` all come from this table.
public enum ConfigSchema {
    /// Section names in file order (`out` is a key of its own).
    public static let sections = ["data", "model", "training", "finetune", "classifier", "checkpoint", "layout", "out"]

    public static let keys: [ConfigKey] = dataKeys + modelKeys + trainingKeys("training", \.training)
        + trainingKeys("finetune", \.finetune) + classifierKeys + checkpointKeys + layoutKeys
        + [.path("out", \.out, expected: "a folder path", "Results folder")]

    private static let byPath = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })

    /// The key at `path`, e.g. `training.lr`.
    public static func key(_ path: String) -> ConfigKey? { byPath[path] }

    /// The keys of `section`, in schema order.
    public static func keys(in section: String) -> [ConfigKey] { keys.filter { $0.section == section } }

    static let dataKeys: [ConfigKey] = [
        .paths("data.fasta", \.data.fasta, expected: "a FASTA path",
               "Genome FASTA files (plain or .gz): the language model's pretraining corpus"),
        .path("data.dataset", \.data.dataset, expected: "a dataset.csv path",
              "A prepared dataset.csv (ulmfit prepare): the fine-tuning corpus and the classifier's data"),
        .paths("data.csv", \.data.csv, expected: "a CSV path",
               "ulmfit run: labelled CSV files ('sequence,class') to prepare into OUT/data/dataset.csv"),
        .paths("data.positive", \.data.positive, expected: "a FASTA path",
               "ulmfit run: FASTA files of positive sequences (label 1) to prepare"),
        .paths("data.negative", \.data.negative, expected: "a FASTA path",
               "ulmfit run: FASTA files of negative sequences (label 0) to prepare"),
        .number("data.split_seed", \.data.splitSeed, .nonNegative, "ulmfit run: seed of the prepared train/valid/test split"),
        .path("data.vocab", \.data.vocab, expected: "a vocabulary JSON path",
              "Vocabulary JSON (ulmfit vocab); it brings k and stride", unset: "built from the training data"),
        .path("data.init_from", \.data.initFrom, expected: "a run folder or checkpoint",
              "Language model to start from (fine-tuning): a train-lm run folder or one of its checkpoints; it brings "
                + "the vocabulary and sizes",
              unset: "a fresh model"),
        .path("data.encoder", \.data.encoder, expected: "a run folder or checkpoint",
              "Language model whose encoder starts the classifier: a train-lm run folder or one of its checkpoints; it "
                + "brings the vocabulary and sizes",
              unset: "a classifier from scratch"),
        .number("data.k", \.data.k, .positive, "k-mer size when building the vocabulary"),
        .number("data.stride", \.data.stride, .positive, "Bases between k-mer starts when building the vocabulary"),
        .number("data.max_bases", \.data.maxBases, .positive, "Read at most this many bases of the FASTA inputs",
                unset: "all"),
        .number("data.valid_fraction", \.data.validFraction, .unitHalfOpen,
                "Fraction of genome chunks (10 kb), or with data.lm_splits train+valid of the dataset's sequences, "
                  + "held out for the language model's validation"),
        .choice("data.lm_splits", \.data.lmSplits,
                "With data.dataset, the splits the language model trains on: train (validating on valid) or train+valid "
                  + "(validating on a held-out data.valid_fraction of them); never test"),
    ]

    static let modelKeys: [ConfigKey] = [
        .number("model.emb", \.model.emb, .positive, "Embedding size E"),
        .number("model.hidden", \.model.hidden, .positive, "Hidden size H"),
        .number("model.layers", \.model.layers, .positive, "LSTM layers"),
        .number("model.drop_mult", \.model.dropMult, .nonNegative,
                "Multiplier of every language-model dropout (fastai drop_mult)"),
    ]

    static func trainingKeys(_ s: String, _ section: WritableKeyPath<RunConfig, RunConfig.TrainingSection>) -> [ConfigKey] {
        [
            .number("\(s).batch", section.appending(path: \.batch), .positive, "Streams per minibatch, all workers together (B)"),
            .number("\(s).bptt", section.appending(path: \.bptt), .positive, "BPTT window length (T)"),
            .number("\(s).epochs", section.appending(path: \.epochs), .positive, "Epochs"),
            .number("\(s).max_steps", section.appending(path: \.maxSteps), .positive, "Stop after this many steps",
                    unset: "all epochs"),
            .number("\(s).lr", section.appending(path: \.lr), .positive, "Peak learning rate of the one-cycle schedule"),
            .number("\(s).pct_start", section.appending(path: \.pctStart), .unitClosed, "Fraction of steps warming up"),
            .number("\(s).wd", section.appending(path: \.wd), .nonNegative, "Decoupled weight decay"),
            .number("\(s).clip", section.appending(path: \.clip), .positive, "Clip gradients to this global norm",
                    unset: "no clipping"),
            .number("\(s).alpha", section.appending(path: \.alpha), .nonNegative, "Activation regularization (AR) coefficient"),
            .number("\(s).beta", section.appending(path: \.beta), .nonNegative,
                    "Temporal activation regularization (TAR) coefficient"),
            .number("\(s).eval_every", section.appending(path: \.evalEvery), .positive,
                    "Validate every this many steps (and after each epoch)", unset: "after each epoch"),
            .number("\(s).seed", section.appending(path: \.seed), .nonNegative, "Random seed"),
            .number("\(s).deterministic_shards", section.appending(path: \.deterministicShards), .positive,
                    "Deterministic mode: cut every minibatch into this many fixed shards (weights independent of the worker count)",
                    unset: "one shard per worker"),
        ]
    }

    static let classifierKeys: [ConfigKey] = [
        .choice("classifier.stages", \.classifier.stages,
                "Training stages: gradual unfreezing, every group at once, or the head alone on the frozen encoder in eval mode (a probe)", unset: "ulmfit with an encoder, else all"),
        .number("classifier.batch", \.classifier.batch, .positive, "Sequences per minibatch, all workers together"),
        .number("classifier.bptt", \.classifier.bptt, .positive, "The encoder's backward is truncated every this many tokens"),
        .number("classifier.epochs", \.classifier.epochs, .positive, "Epochs of the last (all groups) stage"),
        .number("classifier.max_steps", \.classifier.maxSteps, .positive, "Stop each stage after this many steps",
                unset: "all epochs"),
        .number("classifier.lr", \.classifier.lr, .positive,
                "Peak learning rate of the head (first stage); later stages use fractions of it"),
        .number("classifier.pct_start", \.classifier.pctStart, .unitClosed, "Fraction of each stage's steps warming up"),
        .number("classifier.wd", \.classifier.wd, .nonNegative, "Decoupled weight decay"),
        .number("classifier.clip", \.classifier.clip, .positive, "Clip gradients to this global norm", unset: "no clipping"),
        .number("classifier.drop_mult", \.classifier.dropMult, .nonNegative, "Multiplier of fastai's classifier dropouts"),
        .number("classifier.alpha", \.classifier.alpha, .nonNegative,
                "Activation regularization (AR) on the last LSTM layer's output, as fastai's text learners (0: off)"),
        .number("classifier.beta", \.classifier.beta, .nonNegative,
                "Temporal activation regularization (TAR) on the last LSTM layer's output (0: off)"),
        .number("classifier.seed", \.classifier.seed, .nonNegative, "Random seed"),
        .number("classifier.deterministic_shards", \.classifier.deterministicShards, .positive,
                "Deterministic mode: cut every minibatch into this many fixed shards", unset: "one shard per worker"),
    ]

    static let checkpointKeys: [ConfigKey] = [
        .number("checkpoint.keep", \.checkpoint.keep, .nonNegative, "Checkpoints to keep, the newest; 0 keeps all"),
        .number("checkpoint.every", \.checkpoint.every, .positive, "Also write a checkpoint every this many optimizer steps",
                unset: "not by step count"),
        .number("checkpoint.minutes", \.checkpoint.minutes, .nonNegative,
                "Write a checkpoint when this many minutes have passed since the last; 0: not by time"),
    ]

    static let layoutKeys: [ConfigKey] = [
        .number("layout.workers", \.layout.workers, .positive, "Number of workers", unset: "one per physical core"),
        .choice("layout.bind", \.layout.bind, "Binding unit", unset: "the type of cpus, else core"),
        .choice("layout.policy", \.layout.policy,
                "Placement: fill a socket/L3 first, or round-robin over NUMA nodes and L3 groups"),
        .text("layout.cpus", \.layout.cpus, expected: "an hwloc location such as core:0-7",
              "Explicit units in hwloc location syntax, e.g. core:0-7, pu:0,2,4, numa:1", unset: "all allowed units"),
        .bool("layout.oversubscribe", \.layout.oversubscribe, "Allow more workers than units"),
    ]

    /// A help text: the key's description and its default, from `RunConfig.defaults`.
    public static func help(_ path: String) -> String {
        guard let key = key(path) else { preconditionFailure("no config key \(path)") }
        return "\(key.doc) (\(path); default: \(defaultText(path)))."
    }

    /// The default of `path` in words: the built-in value, or what unset means.
    public static func defaultText(_ path: String) -> String {
        guard let key = key(path) else { return "none" }
        if key.section == "finetune" { return "training's" }
        return key.display(in: RunConfig.defaults) ?? key.unset ?? "none"
    }
}
