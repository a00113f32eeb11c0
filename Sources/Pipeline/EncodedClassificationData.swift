import GenomicData

/// The classifier's data: each split tokenized to ids, checked before any training.
///
/// Refused (a `DataError` naming the dataset or vocabulary file): an empty split, fewer than two
/// classes in train, a label missing from train (`PreparedDataset.checkTrainable`), a sequence
/// shorter than k, and a vocabulary that maps most tokens to `xxunk` (`UnknownTokenRate`).
public struct EncodedClassificationData: Sendable {
    public var splits: [DatasetSplit: (sequences: [[Int32]], labels: [Int32])] = [:]
    /// Classes: the train split's labels are exactly 0..<classCount.
    public let classCount: Int
    /// The longest sequence in tokens.
    public let maxLength: Int
    /// Things worth a look that do not stop training, one line each (a class missing from the
    /// valid or test split, many unknown tokens).
    public let warnings: [String]

    /// Checks `dataset` for training and tokenizes every split with `encoder`.
    /// - Parameter source: the dataset file, for messages.
    public init(dataset: PreparedDataset, encoder: KmerEncoder, source: String? = nil) throws {
        var warnings = try dataset.checkTrainable(file: source)
        var rate = UnknownTokenRate()
        var maxLength = 0
        for split in DatasetSplit.allCases {
            let encoded = try Self.encode(dataset[split], split: split, encoder: encoder, source: source, rate: &rate)
            splits[split] = encoded
            maxLength = max(maxLength, encoded.sequences.map(\.count).max() ?? 0)
        }
        if let warning = try rate.check(vocabulary: encoder.vocabulary, data: source ?? "the dataset") {
            warnings.append(warning)
        }
        classCount = Int(dataset[.train].labels.max()!) + 1   // checkTrainable: labels are 0..<classes
        self.maxLength = maxLength
        self.warnings = warnings
    }

    /// Tokenizes one split to score a trained classifier: no training checks (the classes come
    /// from the checkpoint), but sequences shorter than k and a vocabulary that maps most tokens
    /// to `xxunk` are still errors.
    public static func encode(_ part: LabeledSequences, split: DatasetSplit, encoder: KmerEncoder,
                              source: String? = nil) throws -> (sequences: [[Int32]], labels: [Int32]) {
        var rate = UnknownTokenRate()
        let encoded = try encode(part, split: split, encoder: encoder, source: source, rate: &rate)
        _ = try rate.check(vocabulary: encoder.vocabulary, data: "the \(split.rawValue) split of \(source ?? "the dataset")")
        return encoded
    }

    private static func encode(_ part: LabeledSequences, split: DatasetSplit, encoder: KmerEncoder, source: String?,
                               rate: inout UnknownTokenRate) throws -> (sequences: [[Int32]], labels: [Int32]) {
        let sequences = part.sequences.map(encoder.encode)
        if let empty = sequences.firstIndex(where: \.isEmpty) {
            throw DataError(file: source, field: "sequence", "\(split.rawValue) sequence \(empty) has "
                + "\(part.sequences[empty].count) bases, fewer than k = \(encoder.tokenizer.k)")
        }
        for ids in sequences { rate.count(ids) }
        return (sequences, part.labels)
    }

    public subscript(split: DatasetSplit) -> (sequences: [[Int32]], labels: [Int32]) {
        splits[split] ?? ([], [])
    }
}
