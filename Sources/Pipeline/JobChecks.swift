import Foundation
import GenomicData
import Logging
import Model
import Parallel
import OutputFiles
import Training

/// Checks shared by the training commands, made before anything is written or allocated.
/// Each turns a problem into a `RunConfigError` that names where the setting at fault came from.
enum JobChecks {
    /// Runs `body`, naming `key`'s source in any data, model, training or layout error it throws.
    static func naming<T>(_ key: String, in config: RunConfig, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as RunConfigError {
            throw error
        } catch let error as DataError where error.file == nil {
            throw config.error(key, error.message)
        } catch let error as ModelError {
            throw config.error(key, "\(error)")
        } catch let error as TrainingError {
            throw config.error(key, "\(error)")
        } catch let error as LayoutError {
            throw config.error(key, "\(error)")
        }
    }

    /// The input files the config names, identified before anything is read (`InputFiles`): the
    /// same file under two names (a relative and an absolute path, a symbolic link) is refused,
    /// naming both keys and their sources. Model folders (`data.init_from`, `data.encoder`) are
    /// identified file by file, so that nothing may be written over them.
    static func inputFiles(_ config: RunConfig) throws -> InputFiles {
        var files = InputFiles()
        let d = config.data
        let lists: [(String, [String]?)] = [("data.fasta", d.fasta), ("data.csv", d.csv), ("data.positive", d.positive),
                                            ("data.negative", d.negative), ("data.dataset", d.dataset.map { [$0] }),
                                            ("data.vocab", d.vocab.map { [$0] })]
        for (key, paths) in lists {
            for path in paths ?? [] {
                do {
                    try files.add(path, role: key)
                } catch let error as FileConflictError {
                    throw config.error(key, error.message)
                }
            }
        }
        for (key, path) in [("data.init_from", d.initFrom), ("data.encoder", d.encoder)] {
            if let path { files.addCheckpoints(of: path, role: key) }
        }
        return files
    }

    /// Plans the worker layout on this machine, within this process's share of it (`node`: one of
    /// several processes a launcher put on the node); an impossible one names the layout key at fault.
    static func planLayout(_ config: RunConfig, node: NodeShare = .whole) throws -> (Topology, WorkerLayout) {
        let topology = try Topology.machine()
        do {
            return (topology, try WorkerLayout(spec: node.apply(to: config.layout.spec, topology: topology), topology: topology))
        } catch let error as LayoutError {
            let key: String
            switch error {
            case .noSuchUnit, .emptyList, .malformedList: key = "layout.cpus"
            case .conflictingUnit: key = config.sources["layout.bind"] != nil ? "layout.bind" : "layout.cpus"
            default: key = "layout.workers"
            }
            throw config.error(key, "\(error)")
        }
    }

    /// The number of shards, refusing before anything runs a deterministic count below the
    /// worker count or a batch too small for the shards.
    static func shardCount(_ config: RunConfig, section: String, batch: Int, deterministicShards: Int?,
                           workers: Int) throws -> Int {
        let shardsKey = "\(section).deterministic_shards", batchKey = "\(section).batch"
        if let d = deterministicShards, d < workers {
            throw config.error(shardsKey, "deterministic mode with \(d) shard\(d == 1 ? "" : "s") cannot use \(workers) "
                + "workers (layout.workers from \(config.source(of: "layout.workers"))): set layout.workers to \(d) "
                + "or fewer, or use at least \(workers) shards")
        }
        let shards = deterministicShards ?? workers
        if batch < shards {
            let what = deterministicShards == nil ? "\(workers) workers (layout.workers from \(config.source(of: "layout.workers")))"
                : "\(shards) shards (\(shardsKey) from \(config.source(of: shardsKey)))"
            throw config.error(batchKey, "a batch of \(batch) cannot be split over \(what): each needs at least one; "
                + "use a batch of at least \(shards)")
        }
        return shards
    }

    /// The optimizer steps of `epochs` epochs of `stepsPerEpoch` (at most `maxSteps`), counted
    /// without overflow: a count past `Int.max` with no `max_steps` to end it is refused, naming
    /// the epochs' source and the most epochs that can be counted.
    static func plannedSteps(_ config: RunConfig, epochsKey: String, epochs: Int, stepsPerEpoch: Int,
                             maxSteps: Int?) throws -> Int {
        let (steps, overflow) = epochs.multipliedReportingOverflow(by: stepsPerEpoch)
        guard overflow else { return min(maxSteps ?? .max, steps) }
        guard let maxSteps else {
            throw config.error(epochsKey, "\(epochs) epochs of \(stepsPerEpoch) steps are more steps than can be counted "
                + "(at most \(Int.max / max(stepsPerEpoch, 1)) epochs): lower it, or set a max_steps")
        }
        return maxSteps
    }

    /// Refuses a run whose estimated memory exceeds what the machine has available.
    static func checkMemory(_ estimate: MemoryEstimate, _ config: RunConfig, keys: [String], logger: Logger) throws {
        logger.debug("memory: \(estimate)")
        guard let available = MachineMemory.availableBytes(), estimate.total > available else { return }
        if estimate.shared > available {
            // The weights and optimizer state alone do not fit: no batch or window makes this run fit.
            let sizes = ["model.emb", "model.hidden", "model.layers"]
            let named = sizes.map { "\($0) \(config.source(of: $0) == .builtIn ? "(default)" : "from \(config.source(of: $0))")" }
            throw config.error(sizes[1], "the run needs \(estimate), but \(MemoryEstimate.format(available)) are available, "
                + "and the model's weights and optimizer state alone need \(MemoryEstimate.format(estimate.shared)): no batch "
                + "or window fits; lower " + named.joined(separator: ", ") + " (or use a smaller vocabulary)")
        }
        let named = keys.map { "\($0) \(config.source(of: $0) == .builtIn ? "(default)" : "from \(config.source(of: $0))")" }
        throw config.error(keys[0], "the run needs \(estimate), but \(MemoryEstimate.format(available)) are available: "
            + "lower " + named.joined(separator: " or "))
    }

    /// Errors for settings given that contradict `owner` (e.g. a vocabulary beside a checkpoint
    /// that brings its own), naming both sources.
    static func refuse(_ keys: [String], besides owner: String, in config: RunConfig, because reason: String) throws {
        let given = keys.filter { config.sources[$0] != nil }
        guard let first = given.first else { return }
        let list = given.map { "\($0) (\(config.source(of: $0)))" }.joined(separator: ", ")
        throw config.error(first, "\(owner) (\(config.source(of: owner))) \(reason), so \(list) cannot apply: "
            + "remove \(given.count == 1 ? "it" : "them")")
    }

    /// Settings this command does not use: an error when given on the command line (a flag that
    /// cannot apply), a note when they come from the config file (a config shared by commands).
    static func unused(_ config: RunConfig, uses used: Set<String>, command: String, logger: Logger) throws {
        let extra = config.sources.filter { !used.contains($0.key) }.sorted { $0.key < $1.key }
        if let (key, source) = extra.first(where: { if case .flag = $0.value { return true }; return false }) {
            throw RunConfigError(source: source, key: key, "\(command) does not use \(key)")
        }
        if !extra.isEmpty {
            logger.debug("not used by \(command): \(extra.map(\.key).joined(separator: ", "))")
        }
    }

    /// The vocabulary of a `data.vocab` file; a `data.k`/`data.stride` given beside it must agree.
    static func loadVocabulary(_ config: RunConfig) throws -> Vocabulary {
        guard let path = config.data.vocab else { preconditionFailure("no data.vocab") }
        let vocabulary = try Vocabulary.load(from: path)
        for (key, value, own) in [("data.k", config.data.k, vocabulary.k), ("data.stride", config.data.stride, vocabulary.stride)] {
            if let value, value != own {
                throw config.error(key, "\(key.dropFirst(5)) = \(value), but the vocabulary data.vocab "
                    + "(\(config.source(of: "data.vocab"))) \(ConfigPath.display(path)) was built with "
                    + "\(key.dropFirst(5)) = \(own): remove \(key) or use a vocabulary built with it")
            }
        }
        return vocabulary
    }

    /// A k-mer tokenizer and counter for building a vocabulary from the data (bad k names its source).
    static func counter(_ config: RunConfig, logger: Logger) throws -> KmerCounter {
        let data = config.dataOptions
        let tokenizer = try naming("data.k", in: config) { try KmerTokenizer(k: data.k, stride: data.stride) }
        if let warning = tokenizer.warning { logger.warning("\(warning) (data.stride from \(config.source(of: "data.stride")))") }
        return try naming("data.k", in: config) { try KmerCounter(tokenizer: tokenizer) }
    }

    /// The language model at `path` (a run folder or one of its checkpoints), set by `key`
    /// (`data.init_from`, `data.encoder`): another kind is an error naming the key and its source.
    static func loadLanguageModel(_ path: String, key: String, in config: RunConfig, logger: Logger) throws -> ModelCheckpoint {
        let role = "\(key) (\(config.source(of: key)))"
        let model = try ModelCheckpoint.load(from: path, expecting: .languageModel, role: role)
        logger.info("\(key): \(model.resolution)")
        return model
    }

    /// The config a run writes: `keys` with the defaults filled in and the layout as planned
    /// (the worker count and binding unit it resolved to), so that rerunning it repeats the run.
    static func resolved(_ config: RunConfig, keys: [ConfigKey], layout: WorkerLayout) -> RunConfig {
        var c = config
        if c.layout.workers == nil { c.layout.workers = layout.workerCount }
        if c.layout.bind == nil { c.layout.bind = layout.unit }
        return c.filled(keys)
    }

    /// Settings a resumed run may change: where the data, vocabulary and starting models are (the
    /// data's contents are checked against the checkpoint's fingerprint, a vocabulary against its
    /// hash), the results folder (the run's own), the worker layout and the checkpoint options.
    static let mayDifferOnResume: Set<String> = ["data.fasta", "data.dataset", "data.vocab", "data.init_from",
                                                 "data.encoder", "data.csv", "data.positive", "data.negative"]

    /// Refuses settings that contradict those `resume`'s run recorded (a value that differs names
    /// the key, e.g. `config.training.lr`), and a `data.vocab` that is not the run's vocabulary.
    static func checkResume(_ resume: ResumePoint, config: RunConfig, keys: [ConfigKey]) throws {
        let saved = try RunConfig(entries: RunConfig.entries(recorded: resume.config,
                                                             source: .file(resume.manifestFile, line: nil)))
        var given = config.filled(keys)
        for key in ConfigSchema.keys where mayDifferOnResume.contains(key.path) { key.copy(from: saved, into: &given) }
        let vocabulary = try config.data.vocab.map { try Vocabulary.load(from: $0) }
        try resume.check(config: given.json(keys: keys), mayDiffer: ["out", "layout", "checkpoint"], vocabulary: vocabulary)
    }

    /// The results folder of a resumed run: its own; an `out` given that names another is an error.
    static func resumedOut(_ resume: ResumePoint, config: RunConfig) throws -> String {
        if let out = config.out, case .file(let file, _) = config.source(of: "out"), file == resume.manifestFile {
            _ = out   // recorded by the run itself: the folder may have moved since
        } else if let out = config.out, ConfigPath.resolve(out) != ConfigPath.resolve(resume.run) {
            throw config.error("out", "a resumed run continues in its own folder \(ConfigPath.display(resume.run))")
        }
        return ConfigPath.resolve(resume.run)
    }

    /// Writes `summary.json`, the last file of a run: its presence says the run finished.
    static func writeSummary(_ fields: [String: Any], to folder: String) throws {
        let data = try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys])
        try OutputFile.write(data, to: (folder as NSString).appendingPathComponent("summary.json"),
                                         wanted: "the run summary")
    }
}
