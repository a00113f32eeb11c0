#if canImport(Glibc)
import Glibc
#endif

/// A right-hand GEMM operand op(B) (`k x n`) packed once into the own micro-kernel's
/// panel layout, for products that reuse the same B many times.
///
/// The LSTM recurrent weights W_hh ([4H, H], row-major) are constant for a whole
/// minibatch: pack them once per minibatch and reuse for all T time steps, e.g.
///
///     let fwd = PackedMatrix(k: H, n: 4 * H)      // G_t += h_{t-1} W_hh^T
///     let bwd = PackedMatrix(k: 4 * H, n: H)      // dh_{t-1} = dG_t W_hh
///     fwd.pack(.transposed, b: whh, ldb: H)       // once per minibatch
///     bwd.pack(.none, b: whh, ldb: H)
///     gemm(.none, m: B, a: h, lda: H, packedB: fwd, beta: 1, c: g, ldc: 4 * H)
///
/// Layout: depth blocks of `GemmBlocking.kc(forDepth: k)`; within a block, `nr`-column
/// micro-panels, each `kc x nr` contiguous floats; columns past `n` are zero. `nr` is 24
/// (products use `MicroKernel4x24`, whose 4 rows divide every per-worker batch) unless
/// padding `n` to 24 wastes over 5% more columns than padding to 16 (then 16 and
/// `MicroKernel`, 6x16): see `panelWidth(forColumns:)`. Storage is allocated in `init`
/// and reused by every `pack`. Read-only while products use it, so one instance may be
/// shared by several threads between packs.
public final class PackedMatrix: @unchecked Sendable {
    /// Depth (rows of op(B)).
    public let k: Int
    /// Columns of op(B).
    public let n: Int
    /// Width of a micro-panel: the `nr` of the micro-kernel the products use.
    let nr: Int
    /// `n` rounded up to a multiple of `nr`.
    let paddedN: Int
    /// Depth block size (`GemmBlocking.kc(forDepth: k)`).
    let kcStep: Int
    let storage: UnsafeMutablePointer<Float>

    /// Allocates storage for a `k x n` operand (contents undefined until `pack`).
    public convenience init(k: Int, n: Int) {
        self.init(k: k, n: n, nr: PackedMatrix.panelWidth(forColumns: n))
    }

    /// Allocates storage laid out for the micro-kernel of width `nr` (24 or 16); tests
    /// use it to cover both kernels on any shape.
    init(k: Int, n: Int, nr: Int) {
        precondition(k >= 0 && n >= 0, "PackedMatrix: negative shape k=\(k) n=\(n)")
        precondition(nr == MicroKernel4x24.nr || nr == MicroKernel.nr, "PackedMatrix: no kernel of width \(nr)")
        self.k = k
        self.n = n
        self.nr = nr
        paddedN = (n + nr - 1) / nr * nr
        kcStep = GemmBlocking.kc(forDepth: k)
        storage = GemmWorkspace.allocate(max(1, k * paddedN))
    }

    /// Allocates and packs op(B) in one step.
    public convenience init(_ trans: Transpose, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int) {
        self.init(k: k, n: n)
        pack(trans, b: b, ldb: ldb)
    }

    deinit { free(storage) }

    /// 24 (`MicroKernel4x24`) unless its column padding costs over 5% more than 16's
    /// (`MicroKernel`, 6x16): n = 128 pads to 144 with 24 (11% more work), and measured
    /// 79% of peak vs 90% with 6x16; n = 512, 1150, 1600, 4600 lose at most 3%.
    static func panelWidth(forColumns n: Int) -> Int {
        let wide = MicroKernel4x24.nr, narrow = MicroKernel.nr
        let paddedWide = (n + wide - 1) / wide * wide
        let paddedNarrow = (n + narrow - 1) / narrow * narrow
        return 100 * paddedWide <= 105 * paddedNarrow ? wide : narrow
    }

    /// Packs op(B) (`k x n`; stored as `[k, ldb]` if `.none`, `[n, ldb]` if `.transposed`)
    /// into this matrix's storage, replacing what was there. Allocation-free.
    public func pack(_ trans: Transpose, b: UnsafePointer<Float>, ldb: Int) {
        precondition(ldb >= max(1, trans == .none ? n : k),
                     "PackedMatrix.pack: ldb=\(ldb) too small for k=\(k) n=\(n) \(trans)")
        for pc in stride(from: 0, to: k, by: kcStep) {
            let kc = min(kcStep, k - pc)
            let dst = storage + pc * paddedN
            if nr == MicroKernel4x24.nr {
                GemmPacking.packB(MicroKernel4x24.self, trans, b: b, ldb: ldb, p0: pc, kc: kc, j0: 0, nc: n, dst: dst)
            } else {
                GemmPacking.packB(MicroKernel.self, trans, b: b, ldb: ldb, p0: pc, kc: kc, j0: 0, nc: n, dst: dst)
            }
        }
    }

    /// Start of the panels for depth block `depthStart` (a multiple of `kc`) from column
    /// `columnStart` (a multiple of `nr`) on; consecutive panels are `nr * kc` floats apart.
    func block(depthStart: Int, columnStart: Int) -> UnsafePointer<Float> {
        let kc = min(kcStep, k - depthStart)
        return UnsafePointer(storage + depthStart * paddedN + columnStart * kc)
    }
}
