/// Counts the k-mers of many sequences without making a `String` per k-mer, for building a
/// `Vocabulary` from a corpus of any size.
public struct KmerCounter: Sendable {
    public let tokenizer: KmerTokenizer
    /// K-mers counted.
    public private(set) var total = 0
    /// K-mers skipped because they contain a non-ACGT base.
    public private(set) var skippedNonACGT = 0

    private var dense: [Int]                 // k <= 12: count by code
    private var sparse: [UInt64: Int] = [:]  // larger k

    /// Throws for k > 32 (a k-mer must fit a 64-bit code).
    public init(tokenizer: KmerTokenizer) throws {
        guard tokenizer.k <= KmerCode.maxK else {
            throw DataError(field: "k", "k-mer counting supports k <= \(KmerCode.maxK), got \(tokenizer.k)")
        }
        self.tokenizer = tokenizer
        dense = tokenizer.k <= KmerCode.maxTableK ? [Int](repeating: 0, count: 1 << (2 * tokenizer.k)) : []
    }

    /// Counts the k-mers of one sequence (bytes, either case).
    public mutating func add(_ sequence: [UInt8]) {
        sequence.withUnsafeBufferPointer { add($0) }
    }

    public mutating func add(_ sequence: UnsafeBufferPointer<UInt8>) {
        let useDense = !dense.isEmpty
        var counted = 0, skipped = 0
        dense.withUnsafeMutableBufferPointer { table in
            KmerCode.forEach(in: sequence, k: tokenizer.k, stride: tokenizer.stride) { code in
                guard let code else { skipped += 1; return }
                counted += 1
                if useDense { table[Int(code)] += 1 } else { sparse[code, default: 0] += 1 }
            }
        }
        total += counted
        skippedNonACGT += skipped
    }

    /// Counts by k-mer string (only k-mers seen at least once).
    public var counts: [String: Int] {
        var result: [String: Int] = [:]
        if dense.isEmpty {
            for (code, n) in sparse { result[KmerCode.string(of: code, k: tokenizer.k)] = n }
        } else {
            for (code, n) in dense.enumerated() where n > 0 {
                result[KmerCode.string(of: UInt64(code), k: tokenizer.k)] = n
            }
        }
        return result
    }

    /// The vocabulary of the counted k-mers (see `Vocabulary.build`).
    public func vocabulary(minFrequency: Int = 1, maxSize: Int? = nil) throws -> Vocabulary {
        try Vocabulary.build(counts: counts, k: tokenizer.k, stride: tokenizer.stride,
                             minFrequency: minFrequency, maxSize: maxSize)
    }
}
