import COpenBLAS

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none
    case transposed
}

/// Which implementation computes a matrix product. Every product in the model goes through
/// `gemm(...)`, so switching the implementation for a shape is one line.
public enum GemmBackend: String, Sendable, CaseIterable {
    /// OpenBLAS `cblas_sgemm`, single-threaded per calling thread.
    case openBLAS
}

/// Row-major single-precision GEMM: `C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C`.
///
/// `lda`, `ldb`, `ldc` are the row strides of the matrices as stored (before `op`).
@inline(__always)
public func gemm(_ transA: Transpose, _ transB: Transpose,
                 m: Int, n: Int, k: Int,
                 alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0,
                 c: UnsafeMutablePointer<Float>, ldc: Int,
                 backend: GemmBackend = .openBLAS) {
    if m == 0 || n == 0 { return }
    switch backend {
    case .openBLAS:
        cblas_sgemm(CblasRowMajor,
                    transA == .none ? CblasNoTrans : CblasTrans,
                    transB == .none ? CblasNoTrans : CblasTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
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
