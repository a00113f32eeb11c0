/// A checkpoint that cannot be read or written, naming the file and, where one is at fault,
/// the field (a manifest key, a tensor name, a header entry).
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let field: String?
    public let message: String

    public init(file: String, field: String? = nil, _ message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field { return "\(file): '\(field)': \(message)" }
        return "\(file): \(message)"
    }
}
