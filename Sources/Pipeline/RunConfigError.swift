/// A setting that cannot be used: names where it came from (the file and line, or the
/// command-line option), the key and what is wrong.
public struct RunConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where the offending value was written.
    public let source: SettingSource
    /// Full dotted key path, e.g. `training.lr`; nil when the problem is not about one key.
    public let key: String?
    /// What is wrong, in words.
    public let message: String

    public init(source: SettingSource, key: String? = nil, _ message: String) {
        self.source = source
        self.key = key
        self.message = message
    }

    /// An error about a whole config file (missing, empty) or one line of it.
    public init(file: String, line: Int? = nil, key: String? = nil, _ message: String) {
        self.init(source: .file(file, line: line), key: key, message)
    }

    /// The config file, for errors that come from one.
    public var file: String? {
        if case let .file(path, _) = source { return path }
        return nil
    }

    /// The line, for errors that come from a line of a config file.
    public var line: Int? {
        if case let .file(_, line) = source { return line }
        return nil
    }

    /// E.g. `configs/x.yaml:7: training.batch: expected a positive integer, got '-4'`, or for a flag
    /// `--batch: expected a positive integer, got '-4' (training.batch)`.
    public var description: String {
        switch source {
        case .file:
            return "\(source): " + (key.map { "\($0): " } ?? "") + message
        case .flag(let name):
            let keyNote = key.map { name.hasSuffix($0) ? "" : " (\($0))" } ?? ""
            return "\(name): \(message)\(keyNote)"
        case .builtIn:
            return (key.map { "\($0) (default): " } ?? "") + message
        }
    }
}
