/// Which GEMM implementation each class of product in the AWD-LSTM uses, chosen from
/// `ulmfit bench gemm` on a Zen 3 core (numbers and reasoning: benchmarks/README.md).
///
/// Set once at start-up (e.g. from a command-line flag) before workers start; read-only after.
public enum GemmPolicy {
    /// Per-step recurrent products (`h_{t-1} W_hh^T` forward, `dG_t W_hh` backward).
    /// `.ownSIMD` means: pack W_hh into two `PackedMatrix` once per minibatch and call
    /// `gemm(_:m:alpha:a:lda:packedB:beta:c:ldc:workspace:)` every step (80-95% of peak vs
    /// OpenBLAS's 60-85% at these small-M shapes). `.openBLAS` means `cblas_sgemm` per step.
    nonisolated(unsafe) public static var recurrent: GemmBackend = .ownSIMD

    /// Input projections batched over all T steps (`X W_ih^T`, [T*B, I] x [I, 4H]) and the
    /// decoder. OpenBLAS is 5-10 points of peak ahead on these large products.
    nonisolated(unsafe) public static var projection: GemmBackend = .openBLAS

    /// Weight gradients accumulated over all T steps (`dW += dG^T X`, TN, k = T*B).
    /// OpenBLAS is 10+ points of peak ahead (its TN packing is better than ours).
    nonisolated(unsafe) public static var weightGradient: GemmBackend = .openBLAS
}
