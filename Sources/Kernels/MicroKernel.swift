/// The 6x16 micro-kernel of the general own-GEMM path (both operands packed per call).
///
/// Computes a 6x16 tile of `C = alpha * A_panel * B_panel + beta * C` from packed panels:
/// `a` holds `kc` groups of 6 floats (one per row), `b` holds `kc` groups of 16 floats
/// (one per column). Twelve `SIMD8<Float>` accumulators cover the 4-cycle FMA latency
/// on both FMA pipes of Zen 3 / Skylake (8 independent FMAs are the minimum).
enum MicroKernel: GemmMicroKernel {
    static let mr = 6
    static let nr = 16
    typealias V = SIMD8<Float>

    /// Full tile: writes all 6x16 elements of `c` (row stride `ldc`).
    /// When `beta == 0`, `c` is not read (it may hold NaN or garbage).
    @inline(__always)
    static func tile(kc: Int,
                     a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int,
                     alpha: Float, beta: Float) {
        var acc = accumulate(kc: kc, a: a, b: b)
        store(&acc, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    /// Edge tile: only the top-left `rows x cols` of the 6x16 result reach `c`.
    @inline(never)
    static func edgeTile(kc: Int, rows: Int, cols: Int,
                         a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, ldc: Int,
                         alpha: Float, beta: Float) {
        var acc = accumulate(kc: kc, a: a, b: b)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * nr) { tmp in
            let t = tmp.baseAddress!
            store(&acc, c: t, ldc: nr, alpha: alpha, beta: 0)
            for i in 0..<rows {
                let crow = c + i * ldc
                let trow = t + i * nr
                if beta == 0 {
                    for j in 0..<cols { crow[j] = trow[j] }
                } else {
                    for j in 0..<cols { crow[j] = trow[j] + beta * crow[j] }
                }
            }
        }
    }

    struct Accumulators {
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    }

    /// The k loop: per step, two 8-wide loads of B, six broadcasts of A, twelve FMAs.
    /// `addingProduct` lowers to `vfmadd231ps ymm` here (checked with objdump on the
    /// release build; see benchmarks/README.md).
    @inline(never)
    static func accumulate(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>) -> Accumulators {
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var ap = a
        var bp = UnsafeRawPointer(b)
        for _ in 0..<kc {
            let b0 = bp.loadUnaligned(as: V.self)
            let b1 = bp.loadUnaligned(fromByteOffset: 32, as: V.self)
            var x = V(repeating: ap[0])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = V(repeating: ap[1])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = V(repeating: ap[2])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = V(repeating: ap[3])
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = V(repeating: ap[4])
            c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = V(repeating: ap[5])
            c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            ap += 6
            bp += 64
        }
        return Accumulators(c00: c00, c01: c01, c10: c10, c11: c11, c20: c20, c21: c21,
                            c30: c30, c31: c31, c40: c40, c41: c41, c50: c50, c51: c51)
    }

    @inline(__always)
    static func store(_ acc: inout Accumulators, c: UnsafeMutablePointer<Float>, ldc: Int,
                      alpha: Float, beta: Float) {
        storeRow(acc.c00, acc.c01, c, alpha, beta)
        storeRow(acc.c10, acc.c11, c + ldc, alpha, beta)
        storeRow(acc.c20, acc.c21, c + 2 * ldc, alpha, beta)
        storeRow(acc.c30, acc.c31, c + 3 * ldc, alpha, beta)
        storeRow(acc.c40, acc.c41, c + 4 * ldc, alpha, beta)
        storeRow(acc.c50, acc.c51, c + 5 * ldc, alpha, beta)
    }

    @inline(__always)
    static func storeRow(_ lo: V, _ hi: V, _ c: UnsafeMutablePointer<Float>, _ alpha: Float, _ beta: Float) {
        let raw = UnsafeMutableRawPointer(c)
        var lo = lo, hi = hi
        if alpha != 1 { lo *= V(repeating: alpha); hi *= V(repeating: alpha) }
        if beta != 0 {
            let vb = V(repeating: beta)
            lo = lo.addingProduct(vb, raw.loadUnaligned(as: V.self))
            hi = hi.addingProduct(vb, raw.loadUnaligned(fromByteOffset: 32, as: V.self))
        }
        raw.storeBytes(of: lo, as: V.self)
        raw.storeBytes(of: hi, toByteOffset: 32, as: V.self)
    }
}
