import Foundation

/// Machine-readable results of a run: one JSON object per line (JSONL) and the same rows as
/// CSV, both flushed after every row so a crash loses nothing already written.
public final class MetricsLog {
    public let jsonlPath: String
    public let csvPath: String
    private let jsonl: FileHandle
    private let csv: FileHandle
    private var columns: [String]?

    /// Creates (truncates) `<directory>/<name>.jsonl` and `<directory>/<name>.csv`.
    public init(directory: String, name: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        jsonlPath = (directory as NSString).appendingPathComponent(name + ".jsonl")
        csvPath = (directory as NSString).appendingPathComponent(name + ".csv")
        for path in [jsonlPath, csvPath] {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        }
        jsonl = try FileHandle(forWritingTo: URL(fileURLWithPath: jsonlPath))
        csv = try FileHandle(forWritingTo: URL(fileURLWithPath: csvPath))
    }

    deinit {
        try? jsonl.close()
        try? csv.close()
    }

    /// Appends one row. The first row fixes the CSV columns (keys in the given order); later
    /// rows write those columns (missing values empty).
    public func append(_ row: KeyValuePairs<String, MetricValue>) {
        append(Array(row))
    }

    public func append(_ row: [(key: String, value: MetricValue)]) {
        let fields = row.map { "\"\($0.key)\":\($0.value.json)" }.joined(separator: ",")
        jsonl.write(Data("{\(fields)}\n".utf8))
        if columns == nil {
            columns = row.map(\.key)
            csv.write(Data((columns!.joined(separator: ",") + "\n").utf8))
        }
        let lookup = Dictionary(row.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        csv.write(Data((columns!.map { lookup[$0]?.csv ?? "" }.joined(separator: ",") + "\n").utf8))
    }
}

/// A value in a metrics row.
public enum MetricValue: Sendable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case number(Double)
    case integer(Int)
    case text(String)

    public init(floatLiteral v: Double) { self = .number(v) }
    public init(integerLiteral v: Int) { self = .integer(v) }
    public init(stringLiteral v: String) { self = .text(v) }

    var json: String {
        switch self {
        case .number(let v): return v.isFinite ? "\(v)" : "null"
        case .integer(let v): return "\(v)"
        case .text(let s):
            let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\""
        }
    }

    var csv: String {
        switch self {
        case .number(let v): return v.isFinite ? "\(v)" : ""
        case .integer(let v): return "\(v)"
        case .text(let s): return s.contains(",") || s.contains("\"") ? "\"\(s.replacingOccurrences(of: "\"", with: "\"\""))\"" : s
        }
    }
}
