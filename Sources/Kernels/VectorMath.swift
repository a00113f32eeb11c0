/// Vectorized transcendental functions on 8 floats at a time.
///
/// Hand-written because Swift has no vector libm: scalar `exp`/`tanh` per lane are ~14x slower
/// in the LSTM cell. Only plain SIMD arithmetic and `replacing(with:where:)` are used, which
/// the compiler reliably lowers to ymm instructions (generic helpers like `rounded` or
/// `clamped` sometimes stay scalar).
///
/// Accuracy (tested in KernelsTests against Double libm): exp relative error < 2e-7 on
/// [-80, 80]; sigmoid and tanh absolute error < 1e-6.
/// Extremes: inputs are clamped before the exponential (see `exp`), so no function returns
/// NaN or a negative value for a non-NaN input, +-inf included; NaN inputs give NaN.
public enum VectorMath {
    public typealias V = SIMD8<Float>

    /// e^x for x in [-87.33, 88.37]; below, e^-87.33 (~1.2e-38, the smallest normal scale);
    /// above (including +inf), e^88.37 (~2.5e38, finite). NaN propagates.
    @inline(__always)
    public static func exp(_ x: V) -> V {
        let lo = V(repeating: -87.33654), hi = V(repeating: 88.37)
        var x = x.replacing(with: lo, where: x .< lo)
        x = x.replacing(with: hi, where: x .> hi)
        // n = round(x / ln 2) by the 1.5 * 2^23 trick: adding it leaves n in the low mantissa
        // bits, which also gives the integer n without a float-to-int conversion.
        // Every a * b + c below is one fused multiply-add (`addingProduct`).
        let magic = V(repeating: 12582912)
        let t = magic.addingProduct(x, V(repeating: 1.44269504088896341))
        let n = t - magic
        // r = x - n ln2, with ln2 split in two constants so n * ln2_hi is exact.
        var r = x.addingProduct(n, V(repeating: -0.693359375))
        r = r.addingProduct(n, V(repeating: 2.12194440e-4))
        // exp(r) on |r| <= ln2/2: Cephes expf minimax polynomial.
        var p = V(repeating: 1.9875691500e-4)
        p = V(repeating: 1.3981999507e-3).addingProduct(p, r)
        p = V(repeating: 8.3334519073e-3).addingProduct(p, r)
        p = V(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = V(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = V(repeating: 5.0000001201e-1).addingProduct(p, r)
        p = (r + V(repeating: 1)).addingProduct(p, r * r)
        // 2^n: put n + 127 in the exponent field. n is in [-126, 127] after the clamp.
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- SIMD8<Int32>(repeating: 0x4B40_0000)
        let scale = unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
        return p * scale
    }

    /// 1 / (1 + e^-x). Exactly 1 for x >= ~17, ~1e-38 or smaller (never negative) for x <= -87.
    @inline(__always)
    public static func sigmoid(_ x: V) -> V {
        V(repeating: 1) / (V(repeating: 1) + exp(-x))
    }

    /// tanh(x) = 2 / (1 + e^-2x) - 1, with a Taylor branch for |x| < 0.1 where that form
    /// loses relative precision. Saturates to exactly +-1 for |x| >= ~9 (and +-inf).
    @inline(__always)
    public static func tanh(_ x: V) -> V {
        let big = V(repeating: 2) / (V(repeating: 1) + exp(V(repeating: -2) * x)) - V(repeating: 1)
        let x2 = x * x
        // x - x^3/3 + 2x^5/15 - 17x^7/315: relative error < 1e-10 for |x| < 0.1.
        let small = x * (V(repeating: 1) + x2 * (V(repeating: -1.0 / 3) + x2 * (V(repeating: 2.0 / 15) + x2 * V(repeating: -17.0 / 315))))
        return big.replacing(with: small, where: abs(x) .< V(repeating: 0.1))
    }

    @inline(__always)
    static func abs(_ x: V) -> V {
        x.replacing(with: -x, where: x .< V(repeating: 0))
    }

    // Buffer forms: one call per row of gates instead of one per 8 lanes. The callers live in
    // another module, where these functions cannot be inlined; here the per-lane math is.

    /// x[i] = sigmoid(x[i]) for i in 0..<count (in place).
    public static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) {
        map(x, count: count, into: x) { sigmoid($0) }
    }

    /// y[i] = tanh(x[i]) for i in 0..<count (`y` may be `x`).
    public static func tanh(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        map(x, count: count, into: y) { tanh($0) }
    }

    /// sum over i of e^(x[i] - shift) (softmax denominators).
    public static func sumOfExp(_ x: UnsafePointer<Float>, count: Int, minus shift: Float) -> Float {
        let s = V(repeating: shift)
        var acc = V(repeating: 0)
        var i = 0
        while i + 8 <= count {
            acc += exp(UnsafeRawPointer(x + i).loadUnaligned(as: V.self) - s)
            i += 8
        }
        var total = acc.sum()
        if i < count {
            var v = V(repeating: 0)
            for j in 0 ..< count - i { v[j] = x[i + j] - shift }
            let e = exp(v)
            for j in 0 ..< count - i { total += e[j] }
        }
        return total
    }

    /// x[i] = e^(x[i] - shift) in place; returns their sum (a softmax's numerators and
    /// denominator in one pass: one exponential per element).
    public static func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, minus shift: Float) -> Float {
        let s = V(repeating: shift)
        var acc = V(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let e = exp(UnsafeRawPointer(x + i).loadUnaligned(as: V.self) - s)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: V.self)
            acc += e
            i += 8
        }
        var total = acc.sum()
        if i < count {
            var v = V(repeating: 0)
            for j in 0 ..< count - i { v[j] = x[i + j] - shift }
            let e = exp(v)
            for j in 0 ..< count - i { x[i + j] = e[j]; total += e[j] }
        }
        return total
    }

    /// x[i] *= scale.
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by scale: Float) {
        let k = V(repeating: scale)
        map(x, count: count, into: x) { $0 * k }
    }

    /// x[i] = scale * e^(x[i] - shift) in place (softmax probabilities, scaled).
    public static func exp(_ x: UnsafeMutablePointer<Float>, count: Int, minus shift: Float, times scale: Float) {
        let s = V(repeating: shift), k = V(repeating: scale)
        map(x, count: count, into: x) { k * exp($0 - s) }
    }

    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>, _ f: (V) -> V) {
        var i = 0
        while i + 8 <= count {
            let v = f(UnsafeRawPointer(x + i).loadUnaligned(as: V.self))
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: V.self)
            i += 8
        }
        if i < count {
            var v = V(repeating: 0)
            for j in 0 ..< count - i { v[j] = x[i + j] }
            v = f(v)
            for j in 0 ..< count - i { y[i + j] = v[j] }
        }
    }
}
