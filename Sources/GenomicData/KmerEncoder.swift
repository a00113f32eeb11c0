/// Tokenizes DNA bytes straight to vocabulary ids: the fast path for training data.
///
/// Each k-mer is packed into a 2-bit code while scanning, and the code is looked up in a table
/// of 4^k ids (k <= 12) or a dictionary (larger k); no `String` is made per k-mer. A k-mer with
/// a non-ACGT base, or one the vocabulary lacks, becomes `Vocabulary.unknownID`. Gives exactly
/// `vocabulary.ids(of: tokenizer.tokens(sequence))`.
public struct KmerEncoder: Sendable {
    public let tokenizer: KmerTokenizer
    public let vocabulary: Vocabulary

    private let table: [Int32]               // k <= 12: id by code
    private let dictionary: [UInt64: Int32]  // larger k

    /// An encoder for the tokenizer settings stored in `vocabulary`.
    public init(vocabulary: Vocabulary) throws {
        let tokenizer = try KmerTokenizer(k: vocabulary.k, stride: vocabulary.stride)
        guard tokenizer.k <= KmerCode.maxK else {
            throw DataError(file: vocabulary.source, field: "k",
                            "fast encoding supports k <= \(KmerCode.maxK), got \(tokenizer.k)")
        }
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        var table: [Int32] = []
        var dictionary: [UInt64: Int32] = [:]
        if tokenizer.k <= KmerCode.maxTableK {
            table = [Int32](repeating: Vocabulary.unknownID, count: 1 << (2 * tokenizer.k))
        }
        for (id, token) in vocabulary.tokens.enumerated() {
            guard let code = KmerCode.code(of: token) else { continue }   // specials
            if table.isEmpty { dictionary[code] = Int32(id) } else { table[Int(code)] = Int32(id) }
        }
        self.table = table
        self.dictionary = dictionary
    }

    /// The ids of the k-mers of `sequence` (bytes, either case).
    public func encode(_ sequence: [UInt8]) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(tokenizer.tokenCount(sequenceLength: sequence.count))
        sequence.withUnsafeBufferPointer { encode($0, appendingTo: &ids) }
        return ids
    }

    /// Appends the ids of the k-mers of `sequence` to `ids`.
    public func encode(_ sequence: UnsafeBufferPointer<UInt8>, appendingTo ids: inout [Int32]) {
        let unknown = Vocabulary.unknownID
        if table.isEmpty {
            KmerCode.forEach(in: sequence, k: tokenizer.k, stride: tokenizer.stride) { code in
                ids.append(code.flatMap { dictionary[$0] } ?? unknown)
            }
        } else {
            table.withUnsafeBufferPointer { table in
                KmerCode.forEach(in: sequence, k: tokenizer.k, stride: tokenizer.stride) { code in
                    ids.append(code.map { table[Int($0)] } ?? unknown)
                }
            }
        }
    }
}
