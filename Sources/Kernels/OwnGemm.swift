/// The Swift SIMD GEMM: BLIS loop order (jc -> pc -> ic -> jr -> ir), packed panels,
/// register-blocked micro-kernels (6x16 when both operands are packed per call, 4x24 with a
/// pre-packed B). Single-threaded: parallelism comes from workers.
enum OwnGemm {
    /// `C = alpha * op(A) * op(B) + beta * C`, row-major, packing both operands.
    static func gemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                     alpha: Float, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                     workspace ws: GemmWorkspace) {
        if k == 0 || alpha == 0 { return scale(m: m, n: n, c: c, ldc: ldc, beta: beta) }
        typealias K = MicroKernel
        let ncStep = GemmBlocking.nc(forColumns: n, nr: K.nr)
        let kcStep = GemmBlocking.kc(forDepth: k)
        let mcStep = GemmBlocking.mc(forRows: m, mr: K.mr)
        for jc in stride(from: 0, to: n, by: ncStep) {
            let nc = min(ncStep, n - jc)
            for pc in stride(from: 0, to: k, by: kcStep) {
                let kc = min(kcStep, k - pc)
                GemmPacking.packB(K.self, transB, b: b, ldb: ldb, p0: pc, kc: kc, j0: jc, nc: nc, dst: ws.packedB)
                // Later depth blocks accumulate onto the first one's result.
                let blockBeta = pc == 0 ? beta : 1
                for ic in stride(from: 0, to: m, by: mcStep) {
                    let mc = min(mcStep, m - ic)
                    GemmPacking.packA(K.self, transA, a: a, lda: lda, i0: ic, mc: mc, p0: pc, kc: kc, dst: ws.packedA)
                    macroKernel(K.self, mc: mc, nc: nc, kc: kc, packedA: ws.packedA, packedB: ws.packedB,
                                c: c + (ic * ldc + jc), ldc: ldc, alpha: alpha, beta: blockBeta)
                }
            }
        }
    }

    /// `C = alpha * op(A) * B + beta * C` with B already packed (see `PackedMatrix`), then
    /// `epilogue` on every finished tile.
    static func gemm<E: GemmEpilogue>(_ transA: Transpose, m: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                      packedB: PackedMatrix, beta: Float,
                                      c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: E, workspace ws: GemmWorkspace) {
        let n = packedB.n, k = packedB.k
        if k == 0 || alpha == 0 {
            scale(m: m, n: n, c: c, ldc: ldc, beta: beta)
            return epilogue.apply(c: c, ldc: ldc, rows: m, firstColumn: 0, columns: n)
        }
        if packedB.nr == MicroKernel4x24.nr {
            gemm(MicroKernel4x24.self, transA, m: m, alpha: alpha, a: a, lda: lda, packedB: packedB,
                 beta: beta, c: c, ldc: ldc, epilogue: epilogue, workspace: ws)
        } else {
            gemm(MicroKernel.self, transA, m: m, alpha: alpha, a: a, lda: lda, packedB: packedB,
                 beta: beta, c: c, ldc: ldc, epilogue: epilogue, workspace: ws)
        }
    }

    /// The pre-packed product with the micro-kernel `K` that `packedB`'s layout was made for.
    static func gemm<K: GemmMicroKernel, E: GemmEpilogue>(_ kernel: K.Type, _ transA: Transpose, m: Int, alpha: Float,
                                         a: UnsafePointer<Float>, lda: Int, packedB: PackedMatrix,
                                         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                         epilogue: E, workspace ws: GemmWorkspace) {
        let n = packedB.n, k = packedB.k
        let mcStep = GemmBlocking.mc(forRows: m, mr: K.mr)
        let kcStep = packedB.kcStep
        // With a single A block, B panels are streamed once whatever their number, so
        // the column loop need not be split into L3-sized chunks.
        let ncStep = m <= mcStep ? n : GemmBlocking.nc(forColumns: n, nr: K.nr)
        for jc in stride(from: 0, to: n, by: ncStep) {
            let nc = min(ncStep, n - jc)
            for pc in stride(from: 0, to: k, by: kcStep) {
                let kc = min(kcStep, k - pc)
                let bBlock = packedB.block(depthStart: pc, columnStart: jc)
                let blockBeta = pc == 0 ? beta : 1
                let last = pc + kc >= k   // the tiles are finished: run the epilogue on them
                for ic in stride(from: 0, to: m, by: mcStep) {
                    let mc = min(mcStep, m - ic)
                    GemmPacking.packA(K.self, transA, a: a, lda: lda, i0: ic, mc: mc, p0: pc, kc: kc, dst: ws.packedA)
                    if last {
                        macroKernel(K.self, mc: mc, nc: nc, kc: kc, packedA: ws.packedA, packedB: bBlock,
                                    c: c + (ic * ldc + jc), ldc: ldc, alpha: alpha, beta: blockBeta,
                                    epilogue: epilogue, firstColumn: jc)
                    } else {
                        macroKernel(K.self, mc: mc, nc: nc, kc: kc, packedA: ws.packedA, packedB: bBlock,
                                    c: c + (ic * ldc + jc), ldc: ldc, alpha: alpha, beta: blockBeta)
                    }
                }
            }
        }
    }

    /// All micro-tiles of one packed A block times one packed B block. The B micro-panel
    /// is the outer loop so it stays in L1 while every A micro-panel passes by.
    static func macroKernel<K: GemmMicroKernel, E: GemmEpilogue>(_ kernel: K.Type, mc: Int, nc: Int, kc: Int,
                            packedA: UnsafePointer<Float>, packedB: UnsafePointer<Float>,
                            c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float,
                            epilogue: E = NoEpilogue(), firstColumn: Int = 0) {
        let mr = K.mr, nr = K.nr
        for jr in stride(from: 0, to: nc, by: nr) {
            let cols = min(nr, nc - jr)
            let bp = packedB + jr * kc
            for ir in stride(from: 0, to: mc, by: mr) {
                let rows = min(mr, mc - ir)
                let ap = packedA + ir * kc
                let ct = c + (ir * ldc + jr)
                if rows == mr && cols == nr {
                    K.tile(kc: kc, a: ap, b: bp, c: ct, ldc: ldc, alpha: alpha, beta: beta)
                } else {
                    K.edgeTile(kc: kc, rows: rows, cols: cols, a: ap, b: bp, c: ct, ldc: ldc,
                                         alpha: alpha, beta: beta)
                }
                epilogue.apply(c: ct, ldc: ldc, rows: rows, firstColumn: firstColumn + jr, columns: cols)
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
