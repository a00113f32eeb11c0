/// Splits DNA into overlapping k-mers: size `k`, one k-mer every `stride` bases, and the last
/// incomplete k-mer dropped (as in the genomic ULMFiT reference).
///
/// `ATCGCGTACGATCCG` with k=4, stride=2 gives `ATCG CGCG CGTA TACG CGAT ATCC`.
/// This type makes `String` tokens (for vocabularies, display and tests); the training path
/// encodes bytes straight to ids with `KmerEncoder`.
public struct KmerTokenizer: Equatable, Sendable {
    /// Bases per k-mer.
    public let k: Int
    /// Bases between the starts of consecutive k-mers.
    public let stride: Int

    /// Throws a `DataError` naming the setting when `k < 1` or `stride < 1`.
    /// A stride larger than `k` is allowed (bases between k-mers are never seen) and reported
    /// by `warning`.
    public init(k: Int, stride: Int) throws {
        guard k >= 1 else { throw DataError(field: "k", "k-mer size must be >= 1, got \(k)") }
        guard stride >= 1 else { throw DataError(field: "stride", "stride must be >= 1, got \(stride)") }
        self.k = k
        self.stride = stride
    }

    /// A message when the settings are legal but probably a mistake (stride > k skips bases).
    public var warning: String? {
        stride > k
            ? "stride \(stride) > k \(k): \(stride - k) base(s) between consecutive k-mers are never seen"
            : nil
    }

    /// Number of k-mers in a sequence of `length` bases.
    public func tokenCount(sequenceLength length: Int) -> Int {
        length < k ? 0 : (length - k) / stride + 1
    }

    /// The k-mers of `sequence` (bytes used as given; callers upper-case first).
    public func tokens(_ sequence: [UInt8]) -> [String] {
        let count = tokenCount(sequenceLength: sequence.count)
        return (0..<count).map { i in
            let start = i * stride
            return String(decoding: sequence[start..<(start + k)], as: UTF8.self)
        }
    }

    /// The k-mers of `sequence`, upper-cased first.
    public func tokens(_ sequence: String) -> [String] {
        tokens(sequence.utf8.map(BaseCode.uppercased))
    }
}
