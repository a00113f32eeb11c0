import Foundation
import Yams

extension RunConfig {
    /// Reads a YAML config file. Throws `RunConfigError` (file, line, key path) for a missing,
    /// unreadable or empty file, YAML syntax errors, unknown keys, wrong types and out-of-range
    /// values. Relative paths in it are resolved against the file's folder.
    public static func load(path: String) throws -> RunConfig {
        try RunConfig(entries: entries(ofFile: path))
    }

    /// Parses the text of a YAML config; `file` names it in errors and its folder anchors relative paths.
    public static func parse(yaml: String, file: String) throws -> RunConfig {
        try RunConfig(entries: entries(yaml: yaml, file: file))
    }

    /// The settings of `file` (if any) with `overrides` (command-line options) on top, over a
    /// resumed run's recorded settings (`resumed`, if any): every value goes through the same
    /// checks. `exclusive` lists groups of keys that are one choice (e.g. `data.fasta` and
    /// `data.dataset` for `train-lm`): an override of one key of a group replaces the file's
    /// values for the whole group.
    public static func resolve(file: String?, overrides: [ConfigOverride], exclusive: [[String]] = [],
                               resumed: ResumePoint? = nil) throws -> RunConfig {
        var entries: [String: ConfigReader.Entry] =
            resumed.map { Self.entries(recorded: $0.config, source: .file($0.manifestFile, line: nil)) } ?? [:]
        let fromFile: [String: ConfigReader.Entry] = try file.map { try Self.entries(ofFile: $0) } ?? [:]
        entries.merge(fromFile) { _, file in file }
        for group in exclusive where overrides.contains(where: { group.contains($0.key) }) {
            for key in group { entries[key] = nil }
        }
        for override in overrides { entries[override.key] = override.entry }
        return try RunConfig(entries: entries)
    }

    /// A config from checked entries (key path -> value and source), each read by its schema key.
    init(entries: [String: ConfigReader.Entry]) throws {
        self.init()
        // In file order, so that the first error reported is the first in the file.
        for (path, entry) in entries.sorted(by: { Self.order($0.value.source, $0.key) < Self.order($1.value.source, $1.key) }) {
            guard let key = ConfigSchema.key(path) else {
                throw RunConfigError(source: entry.source, key: path, "unknown key '\(path)'")
            }
            try key.read(entry, &self)
            sources[path] = entry.source
        }
    }

    private static func order(_ source: SettingSource, _ key: String) -> String {
        if case let .file(_, line) = source { return String(format: "0%09d", line ?? 0) + key }
        return "1" + key
    }

    static func entries(ofFile path: String) throws -> [String: ConfigReader.Entry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RunConfigError(file: path, "config file not found")
        }
        guard !isDirectory.boolValue else { throw RunConfigError(file: path, "is a directory, not a config file") }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RunConfigError(file: path, "cannot read config file (not UTF-8 text, or not readable)")
        }
        return try entries(yaml: text, file: path)
    }

    /// Checks the structure (sections, known keys) and returns one entry per key, with its line.
    static func entries(yaml: String, file: String) throws -> [String: ConfigReader.Entry] {
        let sections = ConfigSchema.sections.joined(separator: ", ")
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        }
        guard let root, !ConfigReader.isNull(root) else {
            throw RunConfigError(file: file, "config file is empty (expected sections \(sections))")
        }
        guard case .mapping(let top) = root else {
            throw RunConfigError(file: file, line: root.mark?.line, "expected a mapping with sections \(sections)")
        }
        let base = ConfigPath.folder(of: file)
        func entry(_ node: Node) -> ConfigReader.Entry {
            ConfigReader.Entry(node: node, source: .file(file, line: node.mark?.line), base: base)
        }
        var entries: [String: ConfigReader.Entry] = [:]
        for (keyNode, value) in top {  // Yams already rejects duplicate keys
            guard case .scalar(let name) = keyNode else {
                throw RunConfigError(file: file, line: keyNode.mark?.line, "keys must be plain names, got \(ConfigReader.describe(keyNode))")
            }
            let section = name.string
            guard ConfigSchema.sections.contains(section) else {
                throw RunConfigError(file: file, line: keyNode.mark?.line, key: section, "unknown key '\(section)' (known: \(sections))")
            }
            if ConfigSchema.key(section) != nil {   // `out`: a key, not a section
                entries[section] = entry(value)
                continue
            }
            let known = ConfigSchema.keys(in: section).map(\.name)
            if ConfigReader.isNull(value) { continue }
            guard case .mapping(let mapping) = value else {
                throw RunConfigError(file: file, line: value.mark?.line, key: section,
                                     "expected a mapping with keys \(known.joined(separator: ", ")), got \(ConfigReader.describe(value))")
            }
            for (keyNode, value) in mapping {
                guard case .scalar(let key) = keyNode else {
                    throw RunConfigError(file: file, line: keyNode.mark?.line, key: section,
                                         "keys must be plain names, got \(ConfigReader.describe(keyNode))")
                }
                let path = "\(section).\(key.string)"
                guard known.contains(key.string) else {
                    throw RunConfigError(file: file, line: keyNode.mark?.line, key: path,
                                         "unknown key '\(path)' (known: \(known.joined(separator: ", ")))")
                }
                entries[path] = entry(value)
            }
        }
        return entries
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
