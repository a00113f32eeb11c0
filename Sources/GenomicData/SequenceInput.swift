/// Unlabelled sequences to classify, read from FASTA or CSV files (plain or `.gz`) exactly as
/// given: every record is handed over, valid or not, with where it came from, so that the
/// caller can name each record it cannot classify instead of dropping it silently.
public enum SequenceInput {
    /// One record: its identifier, its bases upper-cased (any symbol kept) and its place in the file.
    public struct Record: Equatable, Sendable {
        /// FASTA: the header's first word; CSV: the id column, else `file:line`.
        public var id: String
        public var sequence: [UInt8]
        /// `file:line` for CSV rows, `file record N` for FASTA records (1-based).
        public var location: String

        public init(id: String, sequence: [UInt8], location: String) {
            self.id = id
            self.sequence = sequence
            self.location = location
        }

        /// Why the record cannot be classified, or nil: empty, a symbol other than A/C/G/T (the
        /// first one and its 1-based position), fewer than `minLength` bases, or more than
        /// `maxLength`.
        public func problem(minLength: Int, maxLength: Int) -> String? {
            if sequence.isEmpty { return "empty sequence" }
            let invalid = { (byte: UInt8) in BaseCode.table[Int(byte)] == BaseCode.invalid }
            if let bad = sequence.firstIndex(where: invalid) {
                let symbol = String(decoding: [sequence[bad]], as: UTF8.self)
                let count = sequence.lazy.filter(invalid).count
                return "holds '\(symbol)' at base \(bad + 1) (\(count) symbol\(count == 1 ? "" : "s") other than A/C/G/T)"
            }
            if sequence.count < minLength { return "\(sequence.count) bases, shorter than \(minLength)" }
            if sequence.count > maxLength { return "\(sequence.count) bases, longer than \(maxLength)" }
            return nil
        }
    }

    /// The file's format, from its first non-blank line: `>` starts FASTA, anything else CSV.
    public enum Format: Equatable, Sendable { case fasta, csv }

    /// Reads every record of `path` in file order.
    /// - Parameters:
    ///   - sequenceColumn: the CSV column holding the sequence (default `sequence`).
    ///   - idColumn: the CSV column holding the id (default: none, ids are `file:line`).
    /// - Throws: `DataError` naming the file (and line) for unreadable or empty files, a CSV
    ///   without the named columns or with a ragged row.
    public static func read(path: String, sequenceColumn: String? = nil, idColumn: String? = nil) throws -> [Record] {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        switch try format(of: path) {
        case .fasta:
            var records: [Record] = []
            try FastaReader(path: path, policy: .everyRecord).forEachRecord { record in
                let id = record.header.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
                records.append(Record(id: id.isEmpty ? "\(name):record\(records.count + 1)" : id, sequence: record.sequence,
                                      location: "\(path) record \(records.count + 1)"))
            }
            return records
        case .csv:
            var records: [Record] = []
            let columns = [sequenceColumn ?? "sequence"] + (idColumn.map { [$0] } ?? [])
            try CSVReader(path: path).forEachRow(columns: columns) { fields, line in
                let bases = Array(fields[0].utf8).map(BaseCode.uppercased)
                let id = idColumn == nil ? "\(name):\(line)" : String(fields[1])
                records.append(Record(id: id, sequence: bases, location: "\(path):\(line)"))
            }
            return records
        }
    }

    /// FASTA when the first non-blank line starts with `>` (or `;`, an old FASTA comment), else CSV.
    public static func format(of path: String) throws -> Format {
        struct Found: Error { let format: Format }
        do {
            try LineReader(path: path).forEachLine { line, _ in
                guard let first = line.first(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { return }
                throw Found(format: first == UInt8(ascii: ">") || first == UInt8(ascii: ";") ? .fasta : .csv)
            }
        } catch let found as Found {
            return found.format
        }
        throw DataError(file: path, "file is empty (no FASTA records or CSV rows)")
    }
}
