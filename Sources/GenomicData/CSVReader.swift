/// Reads a comma-separated file (plain or `.gz`) with a required header row, row by row.
///
/// Deliberately small: fields may be wrapped in double quotes, but a quoted field may not hold
/// a comma or a line break (DNA datasets never need either). Blank lines are skipped. Every
/// error names the file and line.
struct CSVReader {
    let path: String

    /// Calls `body` with the fields of each data row (in the order of `columns`) and the row's
    /// line number. The header must contain every name in `columns` (any case and order, extra
    /// columns allowed, e.g. pandas' unnamed index column); `alternatives` maps a column to other
    /// accepted names (e.g. "label" for "class"). Returns the header's column names (lower-cased).
    @discardableResult
    func forEachRow(columns: [String], alternatives: [String: [String]] = [:],
                    _ body: ([Substring], Int) throws -> Void) throws -> [String] {
        let reader = try LineReader(path: path)
        var positions: [Int]? = nil
        var header: [String] = []
        var width = 0
        try reader.forEachLine { bytes, number in
            var line = String(decoding: bytes, as: UTF8.self)
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { return }
            if positions == nil, line.hasPrefix("\u{FEFF}") { line.removeFirst() }   // a byte-order mark (Excel)
            let fields = CSVReader.split(line)
            if let open = fields.firstIndex(where: { $0.first == "\"" && ($0.count < 2 || $0.last != "\"") }) {
                // A quote that does not close in its field: an unterminated quote, or a comma inside
                // quotes (which this reader does not take). Said with its line, never read as data.
                throw DataError(file: path, line: number, "column \(open + 1) opens a quote that does not close before "
                                + "the next comma or the end of the line: \(MessageExcerpt.quoted(fields[open]))")
            }
            guard let columnsAt = positions else {
                let names = fields.map { $0.trimmingSpaces().lowercased() }
                header = names
                positions = try columns.map { column in
                    let accepted = ([column] + (alternatives[column] ?? [])).map { $0.lowercased() }
                    guard let at = names.firstIndex(where: { accepted.contains($0) }) else {
                        let wanted = "header row must name a '\(accepted.joined(separator: "' or '"))' column"
                        guard MessageExcerpt.isText(Substring(line)) else {   // a binary file: never its bytes in the message
                            throw DataError(file: path, line: number, field: column, "\(wanted); the first line is "
                                + "\(bytes.count) bytes that are not text: is this a CSV (or FASTA) file?")
                        }
                        throw DataError(file: path, line: number, field: column, "\(wanted); found \(MessageExcerpt.list(names))")
                    }
                    return at
                }
                width = fields.count
                return
            }
            guard fields.count == width else {
                throw DataError(file: path, line: number,
                                "expected \(width) comma-separated columns (as in the header), found \(fields.count)")
            }
            try body(columnsAt.map { fields[$0] }, number)
        }
        guard positions != nil else { throw DataError(file: path, "file is empty (a header row is required)") }
        return header
    }

    /// Splits on commas, trims spaces and removes one pair of surrounding double quotes.
    static func split(_ line: String) -> [Substring] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { raw in
            var field = Substring(raw.trimmingSpaces())
            if field.count >= 2, field.first == "\"", field.last == "\"" {
                field = field.dropFirst().dropLast()
            }
            return field
        }
    }
}
