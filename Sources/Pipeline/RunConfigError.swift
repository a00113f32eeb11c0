/// A run configuration file that cannot be used: names the file, the line and the key path.
public struct RunConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The configuration file, as given.
    public let file: String
    /// 1-based line of the offending key or value; nil for whole-file problems (missing, empty).
    public let line: Int?
    /// Full dotted key path, e.g. `training.lr`; nil when the problem is not about one key.
    public let key: String?
    /// What is wrong, in words.
    public let message: String

    public init(file: String, line: Int? = nil, key: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// E.g. `configs/x.yaml:7: training.batch: expected a positive integer, got -4`.
    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return "\(location): \(message)"
    }
}
