/// The 4x24 micro-kernel of the pre-packed path (`PackedMatrix`).
///
/// Per k step: three 8-wide loads of B, four broadcasts of A, twelve FMAs into twelve
/// `SIMD8<Float>` accumulators (as many as 6x16, so the FMA latency is covered the same
/// way, with one load fewer). Four rows divide the per-worker batches of the data-parallel
/// trainer (64 streams over 1, 2, 4, 8 workers: 64, 32, 16, 8 rows), where 6-row tiles
/// compute 66, 36, 18, 12 rows. `a` holds `kc` groups of 4 floats, `b` `kc` groups of 24.
enum MicroKernel4x24: GemmMicroKernel {
    static let mr = 4
    static let nr = 24
    typealias V = SIMD8<Float>

    @inline(__always)
    static func tile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let acc = accumulate(kc: kc, a: a, b: b)
        store(acc, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    // Same shape as MicroKernel.edgeTile on purpose: one generic version in a protocol
    // extension measured 5% slower on the paper-model step (1,361-1,407 vs 1,444-1,515 tokens/s).
    @inline(never)
    static func edgeTile(kc: Int, rows: Int, cols: Int,
                         a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let acc = accumulate(kc: kc, a: a, b: b)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * nr) { tmp in
            let t = tmp.baseAddress!
            store(acc, c: t, ldc: nr, alpha: alpha, beta: 0)
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
        var c00 = V(), c01 = V(), c02 = V(), c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V(), c30 = V(), c31 = V(), c32 = V()
    }

    /// The k loop; lowers to 3 `vmovups`, 4 `vbroadcastss`, 12 `vfmadd231ps ymm` per step
    /// with every accumulator in a register (checked with objdump, benchmarks/README.md).
    @inline(never)
    static func accumulate(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>) -> Accumulators {
        var c00 = V(), c01 = V(), c02 = V(), c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V(), c30 = V(), c31 = V(), c32 = V()
        var ap = a
        var bp = UnsafeRawPointer(b)
        for _ in 0..<kc {
            let b0 = bp.loadUnaligned(as: V.self)
            let b1 = bp.loadUnaligned(fromByteOffset: 32, as: V.self)
            let b2 = bp.loadUnaligned(fromByteOffset: 64, as: V.self)
            var x = V(repeating: ap[0])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1); c02 = c02.addingProduct(x, b2)
            x = V(repeating: ap[1])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1); c12 = c12.addingProduct(x, b2)
            x = V(repeating: ap[2])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1); c22 = c22.addingProduct(x, b2)
            x = V(repeating: ap[3])
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1); c32 = c32.addingProduct(x, b2)
            ap += 4
            bp += 96
        }
        return Accumulators(c00: c00, c01: c01, c02: c02, c10: c10, c11: c11, c12: c12,
                            c20: c20, c21: c21, c22: c22, c30: c30, c31: c31, c32: c32)
    }

    @inline(__always)
    static func store(_ acc: Accumulators, c: UnsafeMutablePointer<Float>, ldc: Int,
                      alpha: Float, beta: Float) {
        storeRow(acc.c00, acc.c01, acc.c02, c, alpha, beta)
        storeRow(acc.c10, acc.c11, acc.c12, c + ldc, alpha, beta)
        storeRow(acc.c20, acc.c21, acc.c22, c + 2 * ldc, alpha, beta)
        storeRow(acc.c30, acc.c31, acc.c32, c + 3 * ldc, alpha, beta)
    }

    @inline(__always)
    static func storeRow(_ v0: V, _ v1: V, _ v2: V, _ c: UnsafeMutablePointer<Float>,
                         _ alpha: Float, _ beta: Float) {
        let raw = UnsafeMutableRawPointer(c)
        var v0 = v0, v1 = v1, v2 = v2
        if alpha != 1 {
            let va = V(repeating: alpha)
            v0 *= va; v1 *= va; v2 *= va
        }
        if beta != 0 {
            let vb = V(repeating: beta)
            v0 = v0.addingProduct(vb, raw.loadUnaligned(as: V.self))
            v1 = v1.addingProduct(vb, raw.loadUnaligned(fromByteOffset: 32, as: V.self))
            v2 = v2.addingProduct(vb, raw.loadUnaligned(fromByteOffset: 64, as: V.self))
        }
        raw.storeBytes(of: v0, as: V.self)
        raw.storeBytes(of: v1, toByteOffset: 32, as: V.self)
        raw.storeBytes(of: v2, toByteOffset: 64, as: V.self)
    }
}
