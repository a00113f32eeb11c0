/// One sequence from a FASTA file: its header and upper-case A/C/G/T bytes.
public struct FastaRecord: Equatable, Sendable {
    /// The header line without the leading `>` (trimmed).
    public var header: String
    /// Upper-case nucleotide bytes (ASCII `A`, `C`, `G`, `T`; with `FastaReader.Policy.everyRecord`
    /// any other upper-cased symbol as read, e.g. `N`).
    public var sequence: [UInt8]
    /// 0-based position of `sequence` within the original record: 0 for whole records, the
    /// segment start when records are split at non-ACGT runs.
    public var offset: Int

    public init(header: String, sequence: [UInt8], offset: Int = 0) {
        self.header = header
        self.sequence = sequence
        self.offset = offset
    }

    /// The sequence as a `String` (for display and tests; the pipeline works on bytes).
    public var sequenceString: String { String(decoding: sequence, as: UTF8.self) }
}
