/// A command's files that contradict each other, found before any work: the same input given
/// twice, an output that is one of the inputs (or lies inside a checkpoint), or an output that
/// would replace an earlier result without `--overwrite`.
public struct FileConflictError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
