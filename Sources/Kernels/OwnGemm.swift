/// The Swift SIMD GEMM: BLIS loop order (jc -> pc -> ic -> jr -> ir), packed panels,
/// a 6x16 register-blocked micro-kernel. Single-threaded: parallelism comes from workers.
enum OwnGemm {
    /// `C = alpha * op(A) * op(B) + beta * C`, row-major, packing both operands.
    static func gemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                     alpha: Float, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                     workspace ws: GemmWorkspace) {
        if k == 0 || alpha == 0 { return scale(m: m, n: n, c: c, ldc: ldc, beta: beta) }
        let ncStep = GemmBlocking.nc(forColumns: n)
        let kcStep = GemmBlocking.kc(forDepth: k)
        let mcStep = GemmBlocking.mc(forRows: m)
        for jc in stride(from: 0, to: n, by: ncStep) {
            let nc = min(ncStep, n - jc)
            for pc in stride(from: 0, to: k, by: kcStep) {
                let kc = min(kcStep, k - pc)
                GemmPacking.packB(transB, b: b, ldb: ldb, p0: pc, kc: kc, j0: jc, nc: nc, dst: ws.packedB)
                // Later depth blocks accumulate onto the first one's result.
                let blockBeta = pc == 0 ? beta : 1
                for ic in stride(from: 0, to: m, by: mcStep) {
                    let mc = min(mcStep, m - ic)
                    GemmPacking.packA(transA, a: a, lda: lda, i0: ic, mc: mc, p0: pc, kc: kc, dst: ws.packedA)
                    macroKernel(mc: mc, nc: nc, kc: kc, packedA: ws.packedA, packedB: ws.packedB,
                                c: c + (ic * ldc + jc), ldc: ldc, alpha: alpha, beta: blockBeta)
                }
            }
        }
    }

    /// `C = alpha * op(A) * B + beta * C` with B already packed (see `PackedMatrix`).
    static func gemm(_ transA: Transpose, m: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                     packedB: PackedMatrix, beta: Float,
                     c: UnsafeMutablePointer<Float>, ldc: Int, workspace ws: GemmWorkspace) {
        let n = packedB.n, k = packedB.k
        if k == 0 || alpha == 0 { return scale(m: m, n: n, c: c, ldc: ldc, beta: beta) }
        let mcStep = GemmBlocking.mc(forRows: m)
        let kcStep = packedB.kcStep
        // With a single A block, B panels are streamed once whatever their number, so
        // the column loop need not be split into L3-sized chunks.
        let ncStep = m <= mcStep ? n : GemmBlocking.nc(forColumns: n)
        for jc in stride(from: 0, to: n, by: ncStep) {
            let nc = min(ncStep, n - jc)
            for pc in stride(from: 0, to: k, by: kcStep) {
                let kc = min(kcStep, k - pc)
                let bBlock = packedB.block(depthStart: pc, columnStart: jc)
                let blockBeta = pc == 0 ? beta : 1
                for ic in stride(from: 0, to: m, by: mcStep) {
                    let mc = min(mcStep, m - ic)
                    GemmPacking.packA(transA, a: a, lda: lda, i0: ic, mc: mc, p0: pc, kc: kc, dst: ws.packedA)
                    macroKernel(mc: mc, nc: nc, kc: kc, packedA: ws.packedA, packedB: bBlock,
                                c: c + (ic * ldc + jc), ldc: ldc, alpha: alpha, beta: blockBeta)
                }
            }
        }
    }

    /// All micro-tiles of one packed A block times one packed B block. The B micro-panel
    /// is the outer loop so it stays in L1 while every A micro-panel passes by.
    static func macroKernel(mc: Int, nc: Int, kc: Int,
                            packedA: UnsafePointer<Float>, packedB: UnsafePointer<Float>,
                            c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let mr = MicroKernel.mr, nr = MicroKernel.nr
        for jr in stride(from: 0, to: nc, by: nr) {
            let cols = min(nr, nc - jr)
            let bp = packedB + jr * kc
            for ir in stride(from: 0, to: mc, by: mr) {
                let rows = min(mr, mc - ir)
                let ap = packedA + ir * kc
                let ct = c + (ir * ldc + jr)
                if rows == mr && cols == nr {
                    MicroKernel.tile(kc: kc, a: ap, b: bp, c: ct, ldc: ldc, alpha: alpha, beta: beta)
                } else {
                    MicroKernel.edgeTile(kc: kc, rows: rows, cols: cols, a: ap, b: bp, c: ct, ldc: ldc,
                                         alpha: alpha, beta: beta)
                }
            }
        }
    }

    /// C = beta * C (C is not read when beta is 0, as in BLAS).
    static func scale(m: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }
}
