import SeededRandom

/// Classifier minibatches: token-id sequences with labels, padded at the end, time-major.
///
/// The training split is shuffled each epoch with `CounterRandom(seed, epochShuffle, epoch)`;
/// validation and test keep their order (pass `shuffle: nil`). Padding (`Vocabulary.paddingID`)
/// goes after the real tokens of each row: the LSTM is causal, so trailing padding never
/// changes the outputs at real positions, and `lengths` says where each row ends (for pooling
/// over real steps only).
public struct ClassificationBatches: Sendable {
    /// One minibatch.
    public struct Batch: Equatable, Sendable {
        /// Token ids, time-major: element `[t * batchSize + b]` is row `b` at time `t`;
        /// `maxLength * batchSize` elements, padded with `Vocabulary.paddingID`.
        public var tokens: [Int32]
        /// Real (unpadded) length of each row.
        public var lengths: [Int]
        public var labels: [Int32]
        /// Index of each row in the sequences given to `init`.
        public var indices: [Int]
        /// Longest row in the batch (time steps of `tokens`).
        public var maxLength: Int
        /// Rows in the batch (the last batch may be smaller).
        public var batchSize: Int { labels.count }
    }

    public let batchSize: Int
    /// Sample order for this epoch.
    public let order: [Int]
    private let sequences: [[Int32]]
    private let labels: [Int32]

    /// - Parameters:
    ///   - shuffle: `(seed, epoch)` for the training split; nil keeps the order.
    ///   - dropLast: leave out a final smaller batch (fastai drops it when training).
    /// Throws a `DataError` for mismatched counts, a bad batch size or an empty sequence.
    public init(sequences: [[Int32]], labels: [Int32], batchSize: Int,
                shuffle: (seed: UInt64, epoch: Int)? = nil, dropLast: Bool = false) throws {
        guard batchSize >= 1 else { throw DataError(field: "batchSize", "batch size must be >= 1, got \(batchSize)") }
        guard sequences.count == labels.count else {
            throw DataError(field: "labels", "\(sequences.count) sequences but \(labels.count) labels")
        }
        if let empty = sequences.firstIndex(where: \.isEmpty) {
            throw DataError(field: "sequences", "sequence \(empty) has no tokens (shorter than k?)")
        }
        var order = Array(sequences.indices)
        if let shuffle {
            var random = CounterRandom(seed: shuffle.seed, RandomPurpose.epochShuffle.rawValue, UInt64(shuffle.epoch))
            SeededShuffle.shuffle(&order, random: &random)
        }
        if dropLast { order.removeLast(order.count % batchSize) }
        self.order = order
        self.sequences = sequences
        self.labels = labels
        self.batchSize = batchSize
    }

    public var batchCount: Int { (order.count + batchSize - 1) / batchSize }

    /// Batch `i` of this epoch.
    public func batch(_ i: Int) -> Batch {
        precondition(i >= 0 && i < batchCount, "batch \(i) out of range 0..<\(batchCount)")
        let rows = Array(order[(i * batchSize)..<min((i + 1) * batchSize, order.count)])
        let lengths = rows.map { sequences[$0].count }
        let maxLength = lengths.max() ?? 0
        let width = rows.count
        var tokens = [Int32](repeating: Vocabulary.paddingID, count: maxLength * width)
        for (b, row) in rows.enumerated() {
            for (t, id) in sequences[row].enumerated() { tokens[t * width + b] = id }
        }
        return Batch(tokens: tokens, lengths: lengths, labels: rows.map { labels[$0] },
                     indices: rows, maxLength: maxLength)
    }
}
