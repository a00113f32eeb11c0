import SeededRandom

/// Language-model minibatches with fastai `LMDataLoader` semantics.
///
/// All token streams (documents) of a split are concatenated, optionally in an order shuffled
/// per epoch with `CounterRandom(seed, epochShuffle, epoch)`. The concatenation is cut into
/// `batchSize` parallel streams of equal length `streamLength = (total - 1) / batchSize` (the
/// remainder is dropped; one token is held back so that the last input has a target). Window
/// `i` covers time steps `i*bptt ..< min((i+1)*bptt, streamLength)` of every stream (the last
/// window is shorter), with targets the next token.
///
/// Consecutive windows continue each stream: stream `b` of window `i+1` starts where stream `b`
/// of window `i` ended. So the model carries its hidden state from one window to the next
/// (truncated BPTT), and a worker that owns streams `b0..<b1` keeps the hidden state of exactly
/// those streams across windows.
public struct LanguageModelBatches: Sendable {
    /// One BPTT window: time-major token ids, element `[t * batchSize + b]` is stream `b` at
    /// time `t` (for a stream sub-range, `batchSize` is the sub-range's size).
    public struct Window: Equatable, Sendable {
        public var inputs: [Int32]
        public var targets: [Int32]
        /// Time steps in this window (`bptt`, or fewer for the last window).
        public var seqLen: Int
        /// Streams in this window.
        public var batchSize: Int
    }

    /// Number of parallel streams.
    public let batchSize: Int
    /// Time steps per window (the last may be shorter).
    public let bptt: Int
    /// Tokens per stream.
    public let streamLength: Int
    /// The concatenated corpus (`batchSize * streamLength + 1` tokens used).
    private let corpus: [Int32]

    /// - Parameters:
    ///   - documents: token ids of each document (e.g. each genome segment).
    ///   - shuffle: `(seed, epoch)` to shuffle the document order, or nil for file order.
    /// Throws a `DataError` when the settings are invalid or the corpus is too small for one
    /// token per stream.
    public init(documents: [[Int32]], batchSize: Int, bptt: Int = 70,
                shuffle: (seed: UInt64, epoch: Int)? = nil) throws {
        guard batchSize >= 1 else { throw DataError(field: "batchSize", "batch size must be >= 1, got \(batchSize)") }
        guard bptt >= 1 else { throw DataError(field: "bptt", "BPTT length must be >= 1, got \(bptt)") }
        var order = Array(documents.indices)
        if let shuffle {
            var random = CounterRandom(seed: shuffle.seed, RandomPurpose.epochShuffle.rawValue, UInt64(shuffle.epoch))
            SeededShuffle.shuffle(&order, random: &random)
        }
        let total = documents.reduce(0) { $0 + $1.count }
        let length = (total - 1) / batchSize
        guard total > 0, length >= 1 else {
            throw DataError(field: "batchSize", "\(total) tokens are too few for \(batchSize) streams (need at least \(batchSize + 1))")
        }
        var corpus: [Int32] = []
        corpus.reserveCapacity(total)
        for i in order { corpus.append(contentsOf: documents[i]) }
        self.corpus = corpus
        self.batchSize = batchSize
        self.bptt = bptt
        self.streamLength = length
    }

    /// Number of windows per epoch.
    public var windowCount: Int { (streamLength + bptt - 1) / bptt }

    /// Time steps in window `i`.
    public func seqLen(ofWindow i: Int) -> Int {
        precondition(i >= 0 && i < windowCount, "window \(i) out of range 0..<\(windowCount)")
        return min(bptt, streamLength - i * bptt)
    }

    /// Window `i` for all streams.
    public func window(_ i: Int) -> Window { window(i, streams: 0..<batchSize) }

    /// Window `i` for streams `streams` only (one worker's share); equal to those columns of
    /// the full window.
    public func window(_ i: Int, streams: Range<Int>) -> Window {
        let t = seqLen(ofWindow: i)
        var inputs = [Int32](repeating: 0, count: t * streams.count)
        var targets = inputs
        inputs.withUnsafeMutableBufferPointer { inBuf in
            targets.withUnsafeMutableBufferPointer { tBuf in
                fill(window: i, streams: streams, inputs: inBuf, targets: tBuf)
            }
        }
        return Window(inputs: inputs, targets: targets, seqLen: t, batchSize: streams.count)
    }

    /// Writes window `i` of `streams` time-major into caller buffers of at least
    /// `seqLen(ofWindow: i) * streams.count` elements (no allocation: for worker loops).
    public func fill(window i: Int, streams: Range<Int>,
                     inputs: UnsafeMutableBufferPointer<Int32>, targets: UnsafeMutableBufferPointer<Int32>) {
        precondition(streams.lowerBound >= 0 && streams.upperBound <= batchSize,
                     "streams \(streams) out of range 0..<\(batchSize)")
        let t = seqLen(ofWindow: i)
        let width = streams.count
        precondition(inputs.count >= t * width && targets.count >= t * width, "buffers too small")
        let start = i * bptt
        corpus.withUnsafeBufferPointer { data in
            for (column, b) in streams.enumerated() {
                let base = b * streamLength + start
                for step in 0..<t {
                    inputs[step * width + column] = data[base + step]
                    targets[step * width + column] = data[base + step + 1]
                }
            }
        }
    }
}
