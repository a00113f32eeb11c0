/// One setting given on the command line, on top of the config file: an option that maps to a
/// config key (`--lr` -> `training.lr`), or `--set KEY=VALUE` for any key.
public struct ConfigOverride {
    /// The key path it sets.
    public let key: String
    let entry: ConfigReader.Entry

    /// `option` (e.g. `--lr`) given as `text`; nil when the option was not given.
    public static func option(_ key: String, _ option: String, _ text: String?) -> ConfigOverride? {
        guard let text else { return nil }
        let literal = ConfigSchema.key(key)?.isPath ?? false
        return ConfigOverride(key: key, entry: .flag(text, source: .flag(option), literal: literal))
    }

    /// A repeated option (`--fasta a --fasta b`); nil when not given.
    public static func option(_ key: String, _ option: String, _ texts: [String]) -> ConfigOverride? {
        texts.isEmpty ? nil : ConfigOverride(key: key, entry: .flag(texts, source: .flag(option)))
    }

    /// A flag (`--oversubscribe` / `--no-oversubscribe`); nil when not given.
    public static func option(_ key: String, _ option: String, _ value: Bool?) -> ConfigOverride? {
        value.map { ConfigOverride(key: key, entry: .flag($0 ? "true" : "false", source: .flag(option))) }
    }

    /// `KEY=VALUE` of `--set`, the value written as in a config file (`[a, b]` for a list).
    /// Relative paths are relative to the working directory.
    public static func assignment(_ text: String) throws -> ConfigOverride {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw RunConfigError(source: .flag("--set \(text)"), "expected KEY=VALUE, e.g. training.lr=1e-3")
        }
        let key = String(text[..<eq]), value = String(text[text.index(after: eq)...])
        let source = SettingSource.flag("--set \(key)")
        guard let schemaKey = ConfigSchema.key(key) else {
            let keys = ConfigSchema.keys.map(\.path).joined(separator: ", ")
            throw RunConfigError(source: source, "unknown key '\(key)' (known: \(keys))")
        }
        let isList = value.hasPrefix("[")
        return ConfigOverride(key: key, entry: .flag(value, source: source, literal: schemaKey.isPath && !isList))
    }
}
