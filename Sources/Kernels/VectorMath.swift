/// Vectorized transcendental functions on 8 floats at a time.
///
/// Hand-written because Swift has no vector libm: scalar `exp`/`tanh` per lane are ~14x slower
/// in the LSTM cell. Accuracy: max relative error ~2e-7 for exp on [-87, 88]
/// (Cody-Waite range reduction + degree-6 minimax polynomial), tested in KernelsTests.
public enum VectorMath {
    public typealias V = SIMD8<Float>

    /// e^x. Inputs are clamped to [-87.3, 88.7] (beyond which Float under/overflows).
    @inline(__always)
    public static func exp(_ x: V) -> V {
        let x = x.clamped(lowerBound: V(repeating: -87.33654), upperBound: V(repeating: 88.72283))
        // n = round(x / ln 2); r = x - n ln2 (split in two constants for precision).
        let n = (x * V(repeating: 1.44269504088896341)).rounded(.toNearestOrEven)
        var r = n * V(repeating: -0.693359375) + x
        r = n * V(repeating: 2.12194440e-4) + r
        // exp(r) on |r| <= ln2/2: Taylor/minimax polynomial (Cephes expf coefficients).
        var p = V(repeating: 1.9875691500e-4)
        p = p * r + V(repeating: 1.3981999507e-3)
        p = p * r + V(repeating: 8.3334519073e-3)
        p = p * r + V(repeating: 4.1665795894e-2)
        p = p * r + V(repeating: 1.6666665459e-1)
        p = p * r + V(repeating: 5.0000001201e-1)
        let r2 = r * r
        p = p * r2 + r + V(repeating: 1)
        // Scale by 2^n by adding n to the exponent bits.
        let ni = SIMD8<Int32>(n)
        let bits = (ni &+ 127) &<< 23
        let scale = unsafeBitCast(bits, to: V.self)
        return p * scale
    }

    /// 1 / (1 + e^-x)
    @inline(__always)
    public static func sigmoid(_ x: V) -> V {
        V(repeating: 1) / (V(repeating: 1) + exp(-x))
    }

    /// tanh(x) = 2 sigmoid(2x) - 1, with a Taylor branch near 0 where that form loses
    /// relative precision.
    @inline(__always)
    public static func tanh(_ x: V) -> V {
        let big = V(repeating: 2) / (V(repeating: 1) + exp(V(repeating: -2) * x)) - V(repeating: 1)
        let x2 = x * x
        // x - x^3/3 + 2x^5/15 - 17x^7/315, accurate to < 1e-7 relative for |x| < 0.1
        let small = x * (V(repeating: 1) + x2 * (V(repeating: -1.0 / 3) + x2 * (V(repeating: 2.0 / 15) + x2 * V(repeating: -17.0 / 315))))
        return big.replacing(with: small, where: abs(x) .< V(repeating: 0.1))
    }

    @inline(__always)
    static func abs(_ x: V) -> V {
        x.replacing(with: -x, where: x .< V(repeating: 0))
    }
}
