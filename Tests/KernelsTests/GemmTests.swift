import Testing
@testable import Kernels

/// Own GEMM, packed GEMM and OpenBLAS against a triple loop in Double.
@Suite struct GemmTests {
    /// Deterministic values in [-1, 1) (64-bit LCG), so failures reproduce exactly.
    static func fill(_ p: UnsafeMutablePointer<Float>, _ count: Int, seed: UInt64) {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        for i in 0..<count {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            p[i] = Float(Int64(bitPattern: s >> 11) % 2_000_000) / 1_000_000 - 1
        }
    }

    /// One product in all three paths; returns the worst error relative to
    /// |alpha| sum|a||b| + |beta||c0| per element (the rounding bound of a dot product).
    static func check(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                      alpha: Float, beta: Float, pad: Int, path: String) -> Double {
        let lda = (ta == .none ? k : m) + pad, ldb = (tb == .none ? n : k) + pad, ldc = n + pad
        let aRows = ta == .none ? m : k, bRows = tb == .none ? k : n
        let a = UnsafeMutablePointer<Float>.allocate(capacity: max(1, aRows * lda))
        let b = UnsafeMutablePointer<Float>.allocate(capacity: max(1, bRows * ldb))
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * ldc)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        fill(a, aRows * lda, seed: UInt64(m * 1000 + k))
        fill(b, bRows * ldb, seed: UInt64(n * 1000 + k + 7))
        fill(c, m * ldc, seed: UInt64(m * n + 3))
        // With beta == 0, C must not be read: NaN there would leak into the result.
        if beta == 0 { c.update(repeating: .nan, count: m * ldc) }
        let c0 = Array(UnsafeBufferPointer(start: c, count: m * ldc))

        switch path {
        case "packed", "packed24", "packed16":
            // "packed": the layout PackedMatrix picks for n; the others force one kernel.
            let packed = path == "packed" ? PackedMatrix(k: k, n: n)
                : PackedMatrix(k: k, n: n, nr: path == "packed24" ? 24 : 16)
            // Pack something else first: a re-pack must fully replace the contents.
            let junk = [Float](repeating: 9, count: max(1, bRows * ldb))
            junk.withUnsafeBufferPointer { packed.pack(tb, b: $0.baseAddress!, ldb: ldb) }
            packed.pack(tb, b: b, ldb: ldb)
            gemm(ta, m: m, alpha: alpha, a: a, lda: lda, packedB: packed, beta: beta, c: c, ldc: ldc)
        default:
            gemm(ta, tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                 beta: beta, c: c, ldc: ldc, backend: GemmBackend(rawValue: path)!)
        }

        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var dot = 0.0, mag = 0.0
                for p in 0..<k {
                    let av = Double(ta == .none ? a[i * lda + p] : a[p * lda + i])
                    let bv = Double(tb == .none ? b[p * ldb + j] : b[j * ldb + p])
                    dot += av * bv
                    mag += abs(av * bv)
                }
                let cOld = beta == 0 ? 0 : Double(c0[i * ldc + j])
                let ref = Double(alpha) * dot + Double(beta) * cOld
                let scale = abs(Double(alpha)) * mag + abs(Double(beta) * cOld) + 1e-30
                let err = abs(Double(c[i * ldc + j]) - ref) / scale
                worst = max(worst, err.isNaN ? .infinity : err)
            }
            // Padding columns of C must be untouched.
            for j in n..<ldc where !(c[i * ldc + j].isNaN && c0[i * ldc + j].isNaN) {
                if c[i * ldc + j] != c0[i * ldc + j] { worst = .infinity }
            }
        }
        return worst
    }

    static let paths = ["ownSIMD", "packed", "packed24", "packed16", "openBLAS"]
    static let transposes: [(Transpose, Transpose)] = [(.none, .none), (.none, .transposed),
                                                      (.transposed, .none), (.transposed, .transposed)]

    @Test(arguments: paths)
    func oddSizesAllTransposes(path: String) {
        let sizes = [1, 2, 5, 6, 7, 13, 16, 17, 31, 37]
        var worst = 0.0
        var worstCase = ""
        for (ta, tb) in Self.transposes {
            for m in sizes {
                for n in sizes {
                    for k in sizes {
                        let e = Self.check(ta, tb, m: m, n: n, k: k, alpha: 1, beta: 0, pad: 0, path: path)
                        if e > worst { worst = e; worstCase = "\(ta) \(tb) m=\(m) n=\(n) k=\(k)" }
                    }
                }
            }
        }
        #expect(worst < 1e-5, "worst \(worst) at \(worstCase)")
    }

    @Test(arguments: paths)
    func alphaBetaAndLeadingDimensions(path: String) {
        for (ta, tb) in Self.transposes {
            for (alpha, beta) in [(Float(0.75), Float(0)), (1, 1), (-1.5, -0.5), (2, 0.25)] {
                for (m, n, k) in [(7, 19, 11), (37, 33, 29), (13, 16, 6)] {
                    let e = Self.check(ta, tb, m: m, n: n, k: k, alpha: alpha, beta: beta, pad: 5, path: path)
                    #expect(e < 1e-5, "\(path) \(ta) \(tb) \(m)x\(n)x\(k) alpha=\(alpha) beta=\(beta): \(e)")
                }
            }
        }
    }

    /// Shapes that cross the cache-blocking boundaries (kc = 384, mc = 144, several depth
    /// blocks accumulating onto beta * C) and the recurrent layout with a small batch.
    @Test(arguments: paths)
    func blockBoundaries(path: String) {
        let cases: [(Transpose, Transpose, Int, Int, Int)] = [
            (.none, .transposed, 150, 35, 800),
            (.transposed, .none, 145, 40, 385),
            (.none, .none, 8, 130, 770),
            (.transposed, .transposed, 290, 17, 390),
        ]
        for (ta, tb, m, n, k) in cases {
            let e = Self.check(ta, tb, m: m, n: n, k: k, alpha: 1, beta: 0.5, pad: 3, path: path)
            #expect(e < 1e-5, "\(path) \(ta) \(tb) \(m)x\(n)x\(k): \(e)")
        }
    }

    /// Every row count 1...40 (per-worker batches and all row-edge tiles of the 4- and
    /// 6-row kernels) against column counts on both sides of the 16- and 24-wide panels.
    @Test(arguments: ["packed24", "packed16"])
    func packedAllRowCountsAndColumnEdges(path: String) {
        var worst = 0.0
        var worstCase = ""
        for (ta, tb) in Self.transposes {
            for m in 1...40 {
                for n in [1, 8, 15, 16, 17, 23, 24, 25, 48, 49] {
                    for k in [1, 9] {
                        let beta: Float = m % 2 == 0 ? 0 : 0.5
                        let e = Self.check(ta, tb, m: m, n: n, k: k, alpha: 1, beta: beta, pad: 2, path: path)
                        if e > worst { worst = e; worstCase = "\(ta) \(tb) m=\(m) n=\(n) k=\(k)" }
                    }
                }
            }
        }
        #expect(worst < 1e-5, "worst \(worst) at \(worstCase)")
    }

    /// The layout choice: 24-wide panels unless they pad n by over 5% more than 16-wide.
    @Test func packedPanelWidthChoice() {
        #expect(PackedMatrix(k: 4, n: 4600).nr == 24)
        #expect(PackedMatrix(k: 4, n: 1150).nr == 24)
        #expect(PackedMatrix(k: 4, n: 512).nr == 24)
        #expect(PackedMatrix(k: 4, n: 128).nr == 16)   // 144 vs 128 columns
        #expect(PackedMatrix(k: 4, n: 8).nr == 16)
    }

    /// n past the column block (nc = 4096) of the unpacked path.
    @Test func wideProductCrossesColumnBlock() {
        let e = Self.check(.none, .transposed, m: 7, n: 4100, k: 20, alpha: 1, beta: 1, pad: 1, path: "ownSIMD")
        #expect(e < 1e-5)
        for path in ["packed24", "packed16"] {
            let e2 = Self.check(.none, .none, m: 150, n: 4110, k: 9, alpha: 1, beta: 0, pad: 0, path: path)
            #expect(e2 < 1e-5, "\(path): \(e2)")
        }
    }

    /// k == 0: C = beta * C, as in BLAS.
    @Test(arguments: ["ownSIMD", "packed"])
    func emptyDepthScalesC(path: String) {
        var c: [Float] = [1, 2, 3, 4, 5, 6]
        var a: [Float] = [0], b: [Float] = [0]
        a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    if path == "packed" {
                        let packed = PackedMatrix(.none, k: 0, n: 3, b: bp.baseAddress!, ldb: 3)
                        gemm(m: 2, a: ap.baseAddress!, lda: 1, packedB: packed, beta: 0.5, c: cp.baseAddress!, ldc: 3)
                    } else {
                        gemm(.none, .none, m: 2, n: 3, k: 0, a: ap.baseAddress!, lda: 1, b: bp.baseAddress!, ldb: 3,
                             beta: 0.5, c: cp.baseAddress!, ldc: 3, backend: .ownSIMD)
                    }
                }
            }
        }
        #expect(c == [0.5, 1, 1.5, 2, 2.5, 3])
    }

    /// A hand-computed 2x2 product, so the reference itself is checked too.
    @Test(arguments: GemmBackend.allCases)
    func handComputed(backend: GemmBackend) {
        let a: [Float] = [1, 2, 3, 4, 5, 6]          // 2x3
        let b: [Float] = [7, 8, 9, 10, 11, 12]       // 3x2
        var c: [Float] = [1, 1, 1, 1]
        gemm(.none, .none, m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, beta: 2, c: &c, ldc: 2, backend: backend)
        #expect(c == [60, 66, 141, 156])
    }

    /// Each thread gets its own workspace, and it persists across calls.
    @Test func threadWorkspaceIsReused() {
        #expect(GemmWorkspace.forCurrentThread === GemmWorkspace.forCurrentThread)
    }
}
