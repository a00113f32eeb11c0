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

    /// Rows in the log (those kept when continuing included).
    public private(set) var rowCount = 0
    /// Rows kept from the run's earlier part when continuing (`init(continuing:name:rows:)`),
    /// by key (numbers; null is NaN): to redraw its charts. Empty for a new log.
    public private(set) var previousRows: [[String: Double]] = []
    /// Rows the caller expected to keep that the files no longer hold (e.g. lost in a power
    /// cut after the checkpoint was made durable): 0 normally.
    public private(set) var missingRows = 0

    /// Reopens `<directory>/<name>.jsonl` and `.csv` of an interrupted run to continue them:
    /// keeps the first `rows` rows (and the CSV header), removes any row after them (written
    /// after the checkpoint being resumed, so the continuation does not log them twice, and a
    /// line cut short by a crash) and appends after them. Missing files start empty.
    public init(continuing directory: String, name: String, rows: Int) throws {
        try OutputFile.makeDirectory(directory)
        jsonlPath = (directory as NSString).appendingPathComponent(name + ".jsonl")
        csvPath = (directory as NSString).appendingPathComponent(name + ".csv")
        let jsonlText = FileManager.default.contents(atPath: jsonlPath) ?? Data()   // missing: start empty
        let csvText = FileManager.default.contents(atPath: csvPath) ?? Data()
        let (jsonlKeep, jsonlLines) = Self.prefix(jsonlText, lines: rows)
        let (csvKeep, csvLines) = Self.prefix(csvText, lines: rows == 0 ? 0 : rows + 1)
        jsonl = try OutputFile.continueLog(jsonlPath, keepingBytes: jsonlKeep, wanted: "the \(name) log")
        csv = try OutputFile.continueLog(csvPath, keepingBytes: csvKeep, wanted: "the \(name) table")
        missingRows = max(rows - jsonlLines.count, rows == 0 ? 0 : rows + 1 - csvLines.count)
        if let header = csvLines.first { columns = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        rowCount = jsonlLines.count
        previousRows = jsonlLines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return object.compactMapValues { ($0 as? NSNumber)?.doubleValue ?? ($0 is NSNull ? .nan : nil) }
        }
    }

    /// The byte length of the first `lines` complete lines of `data` (fewer if it has fewer),
    /// and those lines.
    private static func prefix(_ data: Data, lines: Int) -> (bytes: Int, lines: [String]) {
        var end = 0, kept: [String] = []
        var start = data.startIndex
        while kept.count < lines, let newline = data[start...].firstIndex(of: 0x0A) {
            kept.append(String(decoding: data[start ..< newline], as: UTF8.self))
            start = newline + 1
            end = start - data.startIndex
        }
        return (end, kept)
    }

    /// Appends one row. The first row fixes the CSV columns (keys in the given order); later
    /// rows write those columns (missing values empty).
    public func append(_ row: KeyValuePairs<String, MetricValue>) throws {
        try append(Array(row))
    }

    public func append(_ row: [(key: String, value: MetricValue)]) throws {
        rowCount += 1
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
