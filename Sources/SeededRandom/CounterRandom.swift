/// A counter-based random stream: every draw is a pure function of its key.
///
/// Training randomness (dropout masks, shuffles, splits) is keyed by `(seed, purpose, step, index)`
/// instead of coming from a shared generator, so a mask never depends on which worker computes it,
/// on how many workers there are, or on what was drawn before. That is what makes multi-worker
/// runs reproducible and resumable from a checkpoint at any step.
///
/// The mixing is SplitMix64 (Steele, Lea & Flood 2014): fast, passes BigCrush as a stream, and
/// good enough to hash keys into independent streams. Hand-written because the standard library
/// has no seedable generator.
public struct CounterRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A stream identified by a seed and any number of keys (purpose, step, stream index, ...).
    public init(seed: UInt64, _ keys: UInt64...) {
        self.init(seed: seed, keys: keys)
    }

    public init(seed: UInt64, keys: [UInt64]) {
        var h = CounterRandom.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        for k in keys {
            h = CounterRandom.mix(h ^ CounterRandom.mix(k &+ 0xD1B5_4A32_D192_ED03))
        }
        state = h
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return CounterRandom.mix(state)
    }

    /// Uniform in [0, 1) with 24 random bits (every representable step of a Float mantissa).
    @inline(__always)
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What a random stream is used for; part of its key so that two uses never share draws.
public enum RandomPurpose: UInt64, Sendable {
    case datasetSplit = 1
    case epochShuffle = 2
    case embeddingDropout = 10
    case inputDropout = 11
    case weightDropout = 12
    case hiddenDropout = 13
    case outputDropout = 14
    case headDropout = 15
    case initialization = 20
}
