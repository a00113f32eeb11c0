/// Cache blocking of the own GEMM (BLIS loop order).
///
/// - `kc`: depth of one rank-kc update; a 16-column B micro-panel (`kc x 16` floats, 24 KB)
///   stays in L1 while it meets every A micro-panel of the block.
/// - `mc`: rows of the packed A block (`mc x kc`, ~220 KB) kept in L2.
/// - `nc`: columns of the packed B block (`kc x nc`, ~6 MB) kept in L3.
/// Tuned on a Zen 3 core (L1d 32 KB, L2 512 KB); see benchmarks/README.md.
enum GemmBlocking {
    static let kc = 384
    static let mc = 144
    static let nc = 4096
}
