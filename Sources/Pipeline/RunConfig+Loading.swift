import Foundation
import Yams

extension RunConfig {
    static let sectionKeys = ["data", "model", "training", "layout", "out"]
    static let dataKeys = ["fasta", "dataset", "vocab", "init_from", "k", "stride", "max_bases", "valid_fraction"]
    static let modelKeys = ["emb", "hidden", "layers", "drop_mult"]
    static let trainingKeys = ["batch", "bptt", "epochs", "max_steps", "lr", "pct_start", "wd", "clip", "alpha",
                               "beta", "eval_every", "seed", "deterministic_shards"]
    static let layoutKeys = ["workers", "bind", "policy", "cpus", "oversubscribe"]

    /// Reads a YAML run configuration. Throws `RunConfigError` (file, line, key path) for a missing,
    /// unreadable or empty file, YAML syntax errors, unknown keys, wrong types and out-of-range values.
    public static func load(path: String) throws -> RunConfig {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RunConfigError(file: path, "config file not found")
        }
        guard !isDirectory.boolValue else { throw RunConfigError(file: path, "is a directory, not a config file") }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RunConfigError(file: path, "cannot read config file: \(error.localizedDescription)")
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses the text of a YAML run configuration; `file` names it in errors.
    public static func parse(yaml: String, file: String) throws -> RunConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        }
        let reader = ConfigReader(file: file)
        guard let root, !reader.isNull(root) else {
            throw RunConfigError(file: file, "config file is empty (expected sections \(sectionKeys.joined(separator: ", ")))")
        }
        guard case .mapping = root else {
            throw reader.error(root, "", "expected a mapping with sections \(sectionKeys.joined(separator: ", "))")
        }
        let top = try reader.section(root, path: "", known: sectionKeys)
        var config = RunConfig()
        config.data = try readData(top["data"]?.node, reader)
        config.model = try readModel(top["model"]?.node, reader)
        config.training = try readTraining(top["training"]?.node, reader)
        config.layout = try readLayout(top["layout"]?.node, reader)
        config.out = try reader.string(top, "out", expected: "a directory path")
        return config
    }

    private static func readData(_ node: Node?, _ r: ConfigReader) throws -> DataSection {
        let s = try r.section(node, path: "data", known: dataKeys)
        let data = DataSection(
            fasta: try r.strings(s, "fasta", expected: "a FASTA path"),
            dataset: try r.string(s, "dataset", expected: "a dataset.csv path"),
            vocab: try r.string(s, "vocab", expected: "a vocabulary JSON path"),
            initFrom: try r.string(s, "init_from", expected: "a checkpoint directory"),
            k: try r.number(s, "k", .positive), stride: try r.number(s, "stride", .positive),
            maxBases: try r.number(s, "max_bases", .positive),
            validFraction: try r.number(s, "valid_fraction", .unitHalfOpen))
        if data.fasta != nil, let (_, node) = s["dataset"] {
            throw r.error(node, "data", "give fasta or dataset, not both")
        }
        return data
    }

    private static func readModel(_ node: Node?, _ r: ConfigReader) throws -> ModelSection {
        let s = try r.section(node, path: "model", known: modelKeys)
        return ModelSection(emb: try r.number(s, "emb", .positive), hidden: try r.number(s, "hidden", .positive),
                            layers: try r.number(s, "layers", .positive),
                            dropMult: try r.number(s, "drop_mult", .nonNegative))
    }

    private static func readTraining(_ node: Node?, _ r: ConfigReader) throws -> TrainingSection {
        let s = try r.section(node, path: "training", known: trainingKeys)
        return TrainingSection(
            batch: try r.number(s, "batch", .positive), bptt: try r.number(s, "bptt", .positive),
            epochs: try r.number(s, "epochs", .positive), maxSteps: try r.number(s, "max_steps", .positive),
            lr: try r.number(s, "lr", .positive), pctStart: try r.number(s, "pct_start", .unitClosed),
            wd: try r.number(s, "wd", .nonNegative), clip: try r.number(s, "clip", .positive),
            alpha: try r.number(s, "alpha", .nonNegative), beta: try r.number(s, "beta", .nonNegative),
            evalEvery: try r.number(s, "eval_every", .positive), seed: try r.number(s, "seed", .nonNegative),
            deterministicShards: try r.number(s, "deterministic_shards", .positive))
    }

    private static func readLayout(_ node: Node?, _ r: ConfigReader) throws -> LayoutSection {
        let s = try r.section(node, path: "layout", known: layoutKeys)
        return LayoutSection(workers: try r.number(s, "workers", .positive), bind: try r.choice(s, "bind"),
                             policy: try r.choice(s, "policy"),
                             cpus: try r.string(s, "cpus", expected: "an hwloc location such as core:0-7"),
                             oversubscribe: try r.bool(s, "oversubscribe"))
    }

    /// A YAML syntax error as a `RunConfigError` with the line libyaml reports.
    private static func syntaxError(_ error: YamlError, file: String) -> RunConfigError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let started = context.map { " (\($0.text) started at line \($0.mark.line))" } ?? ""
            return RunConfigError(file: file, line: mark.line, "invalid YAML: \(problem)\(started)")
        case let .reader(problem, offset, value, yaml):
            // libyaml's reader (e.g. a control character) gives a character offset: count the lines before it.
            let line = offset.map { yaml.prefix($0).reduce(1) { $1.isNewline ? $0 + 1 : $0 } }
            return RunConfigError(file: file, line: line,
                                  "invalid YAML: \(problem) (U+\(String(value, radix: 16, uppercase: true)))")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return RunConfigError(file: file, line: context.mark.line, "duplicate key \(keys) in one mapping")
        default:
            return RunConfigError(file: file, "invalid YAML: \(error)")
        }
    }
}
