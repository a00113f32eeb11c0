/// A register-blocked `mr x nr` micro-kernel of the own GEMM: computes one tile of
/// `C = alpha * A_panel * B_panel + beta * C` from packed panels (`GemmPacking`).
///
/// `OwnGemm.macroKernel` is generic over it, so each kernel gets its own specialised loop.
/// Two shapes exist because no single one wastes nothing at every batch size:
/// `MicroKernel` (6x16) for the general path, `MicroKernel4x24` for pre-packed B, whose
/// row count divides the per-worker batches 8, 16, 32, 64.
protocol GemmMicroKernel {
    /// Rows of C per tile (rows of an A micro-panel).
    static var mr: Int { get }
    /// Columns of C per tile (columns of a B micro-panel); a multiple of 8.
    static var nr: Int { get }

    /// Full tile: writes all `mr x nr` elements of `c` (row stride `ldc`).
    /// When `beta == 0`, `c` is not read (it may hold NaN or garbage).
    static func tile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float)

    /// Edge tile: only the top-left `rows x cols` of the result reach `c`.
    static func edgeTile(kc: Int, rows: Int, cols: Int,
                         a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float)
}
