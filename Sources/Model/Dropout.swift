import SeededRandom

// The four dropout kinds of AWD-LSTM (fastai's awdlstm.py), each a tiny named piece.
//
// Every mask is drawn from a `CounterRandom` keyed by (seed, purpose, step, layer, index) where
// index is the GLOBAL stream or sequence number in the minibatch, never the worker: the masks,
// and so the trained weights, do not depend on how the batch is split across workers.

/// Where in training a mask is drawn: the run's seed and the optimizer step.
public struct DropoutKey: Sendable {
    public var seed: UInt64
    public var step: Int
    public init(seed: UInt64, step: Int) {
        self.seed = seed
        self.step = step
    }

    func random(_ purpose: RandomPurpose, _ keys: Int...) -> CounterRandom {
        CounterRandom(seed: seed, keys: [purpose.rawValue, UInt64(bitPattern: Int64(step))]
            + keys.map { UInt64(bitPattern: Int64($0)) })
    }
}

/// Fills `mask[0..<count]` with inverted-dropout scales: 0 with probability `p`, else 1/(1-p).
@inline(__always)
func fillDropoutMask(_ mask: UnsafeMutablePointer<Float>, count: Int, p: Float,
                     random: inout CounterRandom) {
    if p <= 0 {
        mask.update(repeating: 1, count: count)
        return
    }
    let keep = 1 / (1 - p)
    for i in 0 ..< count {
        mask[i] = random.nextUnitFloat() < p ? 0 : keep
    }
}

/// Embedding dropout: whole rows of the embedding matrix (whole k-mers) are dropped for a
/// minibatch, survivors scaled by 1/(1-p). One mask of V scales per step, shared by all workers.
public struct EmbeddingDropout: Sendable {
    public var p: Float
    public init(p: Float) { self.p = p }

    /// mask: [V]
    public func fillMask(_ mask: UnsafeMutablePointer<Float>, vocabSize: Int, key: DropoutKey) {
        var r = key.random(.embeddingDropout)
        fillDropoutMask(mask, count: vocabSize, p: p, random: &r)
    }
}

/// Variational ("locked") dropout, fastai's RNNDropout: one mask per sequence, shared across
/// time. Used on the embedded input, between LSTM layers and on the last layer's output.
public struct RNNDropout: Sendable {
    public var p: Float
    public let purpose: RandomPurpose
    public init(p: Float, purpose: RandomPurpose) {
        self.p = p
        self.purpose = purpose
    }

    /// mask: [b, width] for the local streams `firstStream ..< firstStream + b` of the minibatch.
    public func fillMask(_ mask: UnsafeMutablePointer<Float>, streams b: Int, firstStream: Int,
                         width: Int, layer: Int, key: DropoutKey) {
        for j in 0 ..< b {
            var r = key.random(purpose, layer, firstStream + j)
            fillDropoutMask(mask + j * width, count: width, p: p, random: &r)
        }
    }

    /// x[t*b + j, :] *= mask[j, :] for all t (in place). x: [T*b, width], mask: [b, width].
    /// The same function applies the mask to the gradient in backward.
    public static func apply(_ x: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>,
                             rows: Int, streams b: Int, width: Int) {
        for row in 0 ..< rows {
            multiply(x + row * width, by: mask + (row % b) * width, count: width)
        }
    }
}

/// DropConnect on a hidden-to-hidden matrix (fastai's WeightDropout): one mask per minibatch,
/// shared by all time steps and all workers. The effective matrix is `W * mask`; the gradient
/// of the raw matrix is the effective matrix's gradient times the same mask.
public struct WeightDropout: Sendable {
    public var p: Float
    public init(p: Float) { self.p = p }

    /// Fills rows `rows` of the [rowCount, columns] mask of LSTM layer `layer`. Rows are keyed
    /// separately so any worker can draw any block of rows.
    public func fillMask(_ mask: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Int,
                         layer: Int, key: DropoutKey) {
        for row in rows {
            var r = key.random(.weightDropout, layer, row)
            fillDropoutMask(mask + row * columns, count: columns, p: p, random: &r)
        }
    }
}

/// Standard dropout in the classifier head: an independent mask per element, keyed by the
/// global sequence index. mask: [b, width].
public struct HeadDropout: Sendable {
    public var p: Float
    public init(p: Float) { self.p = p }

    public func fillMask(_ mask: UnsafeMutablePointer<Float>, sequences b: Int, firstSequence: Int,
                         width: Int, layer: Int, key: DropoutKey) {
        for j in 0 ..< b {
            var r = key.random(.headDropout, layer, firstSequence + j)
            fillDropoutMask(mask + j * width, count: width, p: p, random: &r)
        }
    }
}
