/// Streams the records of a FASTA file (plain or `.gz`).
///
/// Handles multi-line records, lowercase bases (upper-cased), blank lines and Windows line
/// endings. Sequences are built as bytes straight from large read chunks, so genomes of
/// gigabytes stream through with memory bounded by the longest kept record or segment.
///
/// ```swift
/// let reader = FastaReader(path: "genome.fa.gz", policy: .splitAtNonACGT(minLength: 1000))
/// let summary = try reader.forEachRecord { segment in corpus.append(segment.sequence) }
/// print(summary)   // every skip counted
/// ```
public struct FastaReader: Sendable {
    /// What to do with characters other than A/C/G/T.
    public enum Policy: Equatable, Sendable {
        /// Skip (and count) any record containing a non-ACGT character. For classification
        /// sets: the reference pipeline keeps only pure-ACGT sequences.
        case skipNonACGTRecords
        /// Split records at non-ACGT runs into pure-ACGT segments and keep the segments of at
        /// least `minLength` bases. For genome corpora (assembly gaps are runs of N).
        case splitAtNonACGT(minLength: Int)
        /// Hand over every record whole, empty ones included, upper-cased but otherwise as it is
        /// (N and any other symbol kept): for callers that report or skip bad positions
        /// themselves (`ulmfit predict` names each invalid record, `ulmfit scan` skips windows
        /// over runs of N).
        case everyRecord
    }

    public let path: String
    public let policy: Policy

    public init(path: String, policy: Policy) {
        self.path = path
        self.policy = policy
    }

    /// Reads every record into memory (fine for classification sets and small genomes).
    public func readAll() throws -> (records: [FastaRecord], summary: FastaSummary) {
        var records: [FastaRecord] = []
        let summary = try forEachRecord { records.append($0) }
        return (records, summary)
    }

    /// Calls `body` with each kept record (or segment) in file order and returns the summary.
    ///
    /// Throws a `DataError` for a missing, unreadable or empty file, and for sequence lines
    /// before the first header (naming the line).
    @discardableResult
    public func forEachRecord(_ body: (FastaRecord) throws -> Void) throws -> FastaSummary {
        if case .splitAtNonACGT(let minLength) = policy, minLength < 1 {
            throw DataError(file: path, field: "minLength", "minimum segment length must be >= 1, got \(minLength)")
        }
        var parser = Parser(policy: policy, summary: FastaSummary(file: path))
        let reader = try LineReader(path: path)
        var sawContent = false
        try reader.forEachLine { line, number in
            guard let first = line.first(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else {
                return   // blank line
            }
            sawContent = true
            if first == UInt8(ascii: ">") {
                try parser.finishRecord(body)
                let header = String(decoding: line, as: UTF8.self)
                    .drop(while: { $0 != ">" }).dropFirst()
                parser.startRecord(header: header.trimmingSpaces())
            } else if first == UInt8(ascii: ";") {
                return   // old-style FASTA comment line
            } else {
                guard parser.inRecord else {
                    throw DataError(file: path, line: number,
                                    "sequence data before the first '>' header (not a FASTA file?)")
                }
                try parser.append(line, body)
            }
        }
        guard sawContent else { throw DataError(file: path, "file is empty (no FASTA records)") }
        try parser.finishRecord(body)
        return parser.summary
    }
}

extension FastaReader {
    /// The per-record state machine, separate from I/O.
    struct Parser {
        let policy: Policy
        var summary: FastaSummary
        var inRecord = false
        var header = ""
        var sequence: [UInt8] = []
        var recordLength = 0          // bases (valid or not) seen in the current record
        var segmentStart = 0          // split mode: record offset of `sequence`
        var hasNonACGT = false        // skip mode: current record is already rejected

        init(policy: Policy, summary: FastaSummary) {
            self.policy = policy
            self.summary = summary
        }

        mutating func startRecord(header: String) {
            inRecord = true
            self.header = header
            sequence.removeAll(keepingCapacity: true)
            recordLength = 0
            segmentStart = 0
            hasNonACGT = false
            summary.records += 1
        }

        mutating func append(_ line: UnsafeBufferPointer<UInt8>, _ body: (FastaRecord) throws -> Void) throws {
            switch policy {
            case .everyRecord:
                recordLength += line.count
                for byte in line where byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
                    sequence.append(BaseCode.uppercased(byte))
                }
            case .skipNonACGTRecords:
                recordLength += line.count
                if hasNonACGT { return }
                BaseCode.table.withUnsafeBufferPointer { table in
                    for byte in line {
                        let code = table[Int(byte)]
                        if code == BaseCode.invalid { hasNonACGT = true; return }
                        sequence.append(BaseCode.uppercased(byte))
                    }
                }
            case .splitAtNonACGT(let minLength):
                try BaseCode.table.withUnsafeBufferPointer { table in
                    for byte in line {
                        let code = table[Int(byte)]
                        if code == BaseCode.invalid {
                            summary.nonACGTBases += 1
                            try finishSegment(minLength: minLength, body)
                            segmentStart = recordLength + 1
                        } else {
                            sequence.append(BaseCode.uppercased(byte))
                        }
                        recordLength += 1
                    }
                }
            }
        }

        mutating func finishRecord(_ body: (FastaRecord) throws -> Void) throws {
            guard inRecord else { return }
            inRecord = false
            if recordLength == 0 && policy != .everyRecord {
                summary.skippedEmpty += 1
                return
            }
            switch policy {
            case .everyRecord:
                summary.kept += 1
                summary.keptBases += sequence.count
                try body(FastaRecord(header: header, sequence: sequence))
            case .skipNonACGTRecords:
                if hasNonACGT {
                    summary.skippedNonACGT += 1
                } else {
                    summary.kept += 1
                    summary.keptBases += sequence.count
                    try body(FastaRecord(header: header, sequence: sequence))
                }
            case .splitAtNonACGT(let minLength):
                try finishSegment(minLength: minLength, body)
            }
            sequence.removeAll(keepingCapacity: true)
        }

        private mutating func finishSegment(minLength: Int, _ body: (FastaRecord) throws -> Void) throws {
            guard !sequence.isEmpty else { return }
            if sequence.count >= minLength {
                summary.kept += 1
                summary.keptBases += sequence.count
                try body(FastaRecord(header: header, sequence: sequence, offset: segmentStart))
            } else {
                summary.skippedShortSegments += 1
                summary.shortSegmentBases += sequence.count
            }
            sequence.removeAll(keepingCapacity: true)
        }
    }
}

extension StringProtocol {
    /// Drops leading and trailing spaces and tabs (Foundation-free).
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
