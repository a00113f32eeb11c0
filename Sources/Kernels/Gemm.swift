import COpenBLAS

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none
    case transposed
}

/// Which implementation computes a matrix product. Every product in the model goes through
/// `gemm(...)`, so switching the implementation for a shape is one line (see `GemmPolicy`).
public enum GemmBackend: String, Sendable, CaseIterable {
    /// OpenBLAS `cblas_sgemm`, single-threaded per calling thread.
    case openBLAS
    /// The Swift SIMD GEMM of this module (6x16 micro-kernel, packed panels).
    case ownSIMD
}

/// Row-major single-precision GEMM: `C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C`.
///
/// `lda`, `ldb`, `ldc` are the row strides of the matrices as stored (before `op`).
/// As in BLAS, `C` is not read when `beta == 0`. `workspace` is used by `.ownSIMD` only;
/// `nil` means the calling thread's `GemmWorkspace.forCurrentThread`.
@inline(__always)
public func gemm(_ transA: Transpose, _ transB: Transpose,
                 m: Int, n: Int, k: Int,
                 alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0,
                 c: UnsafeMutablePointer<Float>, ldc: Int,
                 backend: GemmBackend = .openBLAS,
                 workspace: GemmWorkspace? = nil) {
    if m == 0 || n == 0 { return }
    precondition(m > 0 && n > 0 && k >= 0, "gemm: negative shape m=\(m) n=\(n) k=\(k)")
    precondition(lda >= max(1, transA == .none ? k : m), "gemm: lda=\(lda) too small (m=\(m) k=\(k) \(transA))")
    precondition(ldb >= max(1, transB == .none ? n : k), "gemm: ldb=\(ldb) too small (k=\(k) n=\(n) \(transB))")
    precondition(ldc >= n, "gemm: ldc=\(ldc) < n=\(n)")
    switch backend {
    case .openBLAS:
        cblas_sgemm(CblasRowMajor,
                    transA == .none ? CblasNoTrans : CblasTrans,
                    transB == .none ? CblasNoTrans : CblasTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    case .ownSIMD:
        OwnGemm.gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                     b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                     workspace: workspace ?? .forCurrentThread)
    }
}

/// Row-major GEMM with a pre-packed right operand:
/// `C[m, B.n] = alpha * op(A)[m, B.k] * B + beta * C` (own SIMD kernel).
///
/// The product for operands that stay fixed over many calls (the LSTM recurrent weights
/// over the T steps of a minibatch): B's packing cost is paid once, in `PackedMatrix.pack`.
/// With `activation`, the LSTM gate nonlinearities are applied to each tile of C as it is
/// finished (`GateActivation`): C then holds activated gates.
@inline(__always)
public func gemm(_ transA: Transpose = .none, m: Int,
                 alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int,
                 packedB: PackedMatrix,
                 beta: Float = 0,
                 c: UnsafeMutablePointer<Float>, ldc: Int,
                 activation: GateActivation? = nil,
                 workspace: GemmWorkspace? = nil) {
    if m == 0 || packedB.n == 0 { return }
    precondition(m > 0, "gemm: negative m=\(m)")
    precondition(lda >= max(1, transA == .none ? packedB.k : m),
                 "gemm: lda=\(lda) too small (m=\(m) k=\(packedB.k) \(transA))")
    precondition(ldc >= packedB.n, "gemm: ldc=\(ldc) < n=\(packedB.n)")
    if let activation {
        OwnGemm.gemm(transA, m: m, alpha: alpha, a: a, lda: lda, packedB: packedB, beta: beta,
                     c: c, ldc: ldc, epilogue: activation, workspace: workspace ?? .forCurrentThread)
    } else {
        OwnGemm.gemm(transA, m: m, alpha: alpha, a: a, lda: lda, packedB: packedB, beta: beta,
                     c: c, ldc: ldc, epilogue: NoEpilogue(), workspace: workspace ?? .forCurrentThread)
    }
}

/// BLAS threading is turned off: parallelism comes from pinned workers, each calling BLAS
/// on its own core. Call once at start-up (idempotent).
public func configureBLASForWorkers() {
    openblas_set_num_threads(1)
}

/// OpenBLAS build description (core type, threading), printed at start-up for benchmarks.
public func blasConfiguration() -> String {
    guard let c = openblas_get_config() else { return "unknown" }
    return String(cString: c)
}
