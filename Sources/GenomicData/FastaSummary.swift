/// What a FASTA read kept and skipped, and why: nothing is dropped silently.
public struct FastaSummary: Equatable, Sendable, CustomStringConvertible {
    /// The file that was read.
    public var file: String
    /// Records (headers) seen.
    public var records = 0
    /// Records (or segments, when splitting) handed to the caller.
    public var kept = 0
    /// Bases in the kept records or segments.
    public var keptBases = 0
    /// Records whose sequence was empty (a header followed by no bases).
    public var skippedEmpty = 0
    /// Whole records skipped because they contain a character other than A/C/G/T.
    public var skippedNonACGT = 0
    /// Non-ACGT characters removed when splitting records into segments.
    public var nonACGTBases = 0
    /// Pure-ACGT segments dropped for being shorter than the minimum length.
    public var skippedShortSegments = 0
    /// Bases in those short segments.
    public var shortSegmentBases = 0

    public init(file: String) { self.file = file }

    /// One line, e.g. `x.fa: 839 records, 839 kept (68,000 bases); skipped: 0 empty, 0 non-ACGT`.
    public var description: String {
        var parts = ["\(records) records", "\(kept) kept (\(keptBases) bases)"]
        var skipped = ["\(skippedEmpty) empty"]
        if skippedNonACGT > 0 || (nonACGTBases == 0 && skippedShortSegments == 0) {
            skipped.append("\(skippedNonACGT) non-ACGT records")
        }
        if nonACGTBases > 0 || skippedShortSegments > 0 {
            skipped.append("\(nonACGTBases) non-ACGT bases")
            skipped.append("\(skippedShortSegments) short segments (\(shortSegmentBases) bases)")
        }
        parts.append("skipped: " + skipped.joined(separator: ", "))
        return "\(file): " + parts.joined(separator: ", ")
    }
}
