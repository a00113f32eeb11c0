/// Cache blocking of the own GEMM (BLIS loop order).
///
/// - `kc`: depth of one rank-kc update; a B micro-panel (`kc x 16` floats, <= 25 KB; 37 KB
///   for the 24-wide kernel) stays in L1 (or near it) (with the 9 KB A micro-panel) while it meets every A micro-panel of the block.
/// - `mc`: rows of the packed A block (`mc x kc`, ~230 KB) kept in L2.
/// - `nc`: columns of the packed B block (`kc x nc`, ~6 MB) kept in L3.
/// The maxima are split into equal blocks (k = 400 is one block of 400, not 384 + 16: a thin
/// last block would pay a full pass over C for little work). Tuned on a Zen 3 core
/// (L1d 32 KB, L2 512 KB); see benchmarks/README.md.
enum GemmBlocking {
    static let maxKC = 400
    static let maxMC = 144
    static let maxNC = 4096

    /// Depth block size for a product of depth `k` (all blocks equal but the last).
    static func kc(forDepth k: Int) -> Int { balanced(k, max: maxKC, multiple: 8) }
    /// Row block size for `m` rows: a multiple of the micro-kernel height `mr`.
    static func mc(forRows m: Int, mr: Int) -> Int { balanced(m, max: maxMC, multiple: mr) }
    /// Column block size for `n` columns: a multiple of the micro-kernel width `nr`.
    static func nc(forColumns n: Int, nr: Int) -> Int { balanced(n, max: maxNC, multiple: nr) }

    /// The smallest multiple of `multiple` that covers `size` in ceil(size / max) blocks.
    static func balanced(_ size: Int, max: Int, multiple: Int) -> Int {
        let blocks = Swift.max(1, (size + max - 1) / max)
        let per = (size + blocks - 1) / blocks
        // Never 0 (an empty dimension still needs a valid loop stride).
        return Swift.max(multiple, Swift.min(max, (per + multiple - 1) / multiple * multiple))
    }
}
