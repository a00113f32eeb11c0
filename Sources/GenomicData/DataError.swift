/// A problem with input data or settings: names the file and, where known, the line or field.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the problem is in; nil for settings that come from no file (e.g. `k`).
    public let file: String?
    /// 1-based line number, when the problem sits on one line.
    public let line: Int?
    /// The JSON field, CSV column or setting involved, when there is one.
    public let field: String?
    /// What is wrong, in words.
    public let message: String

    public init(file: String? = nil, line: Int? = nil, field: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// E.g. `data/x.csv:17 (field 'class'): label "2x" is not an integer`.
    public var description: String {
        var location = ""
        if let file { location = file }
        if let line { location += ":\(line)" }
        if let field { location += location.isEmpty ? "field '\(field)'" : " (field '\(field)')" }
        return location.isEmpty ? message : "\(location): \(message)"
    }
}
