import Foundation
import OutputFiles

/// Machine-readable results of a run: one JSON object per line (JSONL) and the same rows as
/// CSV, both written through to the file on every row so a crash loses nothing already written.
/// Every failure (folder, permissions, full disk) is an `OutputError` naming the file.
public final class MetricsLog {
    public let jsonlPath: String
    public let csvPath: String
    private let jsonl: AppendingFile
    private let csv: AppendingFile
    private var columns: [String]?

    /// Creates (truncates) `<directory>/<name>.jsonl` and `<directory>/<name>.csv`.
    public init(directory: String, name: String) throws {
        try OutputFile.makeDirectory(directory)
        jsonlPath = (directory as NSString).appendingPathComponent(name + ".jsonl")
        csvPath = (directory as NSString).appendingPathComponent(name + ".csv")
        jsonl = try OutputFile.createLog(jsonlPath, wanted: "the \(name) log")
        csv = try OutputFile.createLog(csvPath, wanted: "the \(name) table")
    }

    /// Appends one row. The first row fixes the CSV columns (keys in the given order); later
    /// rows write those columns (missing values empty).
    public func append(_ row: KeyValuePairs<String, MetricValue>) throws {
        try append(Array(row))
    }

    public func append(_ row: [(key: String, value: MetricValue)]) throws {
        let fields = row.map { "\"\($0.key)\":\($0.value.json)" }.joined(separator: ",")
        try jsonl.append("{\(fields)}\n")
        if columns == nil {
            columns = row.map(\.key)
            try csv.append(columns!.joined(separator: ",") + "\n")
        }
        let lookup = Dictionary(row.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        try csv.append(columns!.map { lookup[$0]?.csv ?? "" }.joined(separator: ",") + "\n")
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
