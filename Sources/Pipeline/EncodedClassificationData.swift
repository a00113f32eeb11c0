import GenomicData

/// The classifier's data: each split tokenized to ids.
public struct EncodedClassificationData: Sendable {
    public var splits: [DatasetSplit: (sequences: [[Int32]], labels: [Int32])] = [:]
    /// Classes: the largest label of any split plus one (at least 2).
    public let classCount: Int
    /// The longest sequence in tokens.
    public let maxLength: Int

    /// Tokenizes every split with `encoder`.
    /// - Throws: `DataError` when a sequence is shorter than k (no tokens).
    public init(dataset: PreparedDataset, encoder: KmerEncoder, source: String? = nil) throws {
        var maxLabel: Int32 = 1, maxLength = 0
        for split in DatasetSplit.allCases {
            let part = dataset[split]
            let sequences = part.sequences.map(encoder.encode)
            if let empty = sequences.firstIndex(where: \.isEmpty) {
                throw DataError(file: source, field: "sequence", "\(split.rawValue) sequence \(empty) has "
                    + "\(part.sequences[empty].count) bases, fewer than k = \(encoder.tokenizer.k)")
            }
            splits[split] = (sequences, part.labels)
            maxLabel = max(maxLabel, part.labels.max() ?? 0)
            maxLength = max(maxLength, sequences.map(\.count).max() ?? 0)
        }
        classCount = Int(maxLabel) + 1
        self.maxLength = maxLength
    }

    public subscript(split: DatasetSplit) -> (sequences: [[Int32]], labels: [Int32]) {
        splits[split] ?? ([], [])
    }
}
