/// Which GEMM implementation each class of product in the AWD-LSTM uses. The default,
/// `measured`, was chosen from `ulmfit bench gemm` on a Zen 3 core (numbers and reasoning:
/// benchmarks/README.md). A value, not a global: the per-step shared state of a model
/// (`WeightDropState`) carries it down to every layer, so a benchmark or a test can run two
/// policies side by side.
public struct GemmPolicy: Sendable, Equatable {
    /// Per-step recurrent products (`h_{t-1} W_hh^T` forward, `dG_t W_hh` backward).
    /// `.ownSIMD` means: pack W_hh into two `PackedMatrix` once per minibatch and call
    /// `gemm(_:m:alpha:a:lda:packedB:beta:c:ldc:workspace:)` every step (80-95% of peak vs
    /// OpenBLAS's 60-85% at these small-M shapes). `.openBLAS` means `cblas_sgemm` per step.
    public var recurrent: GemmBackend

    /// Input projections batched over all T steps (`X W_ih^T`, [T*B, I] x [I, 4H]) and the
    /// decoder. OpenBLAS is 5-10 points of peak ahead on these large products.
    public var projection: GemmBackend

    /// Weight gradients accumulated over all T steps (`dW += dG^T X`, TN, k = T*B).
    /// OpenBLAS is 10+ points of peak ahead (its TN packing is better than ours).
    public var weightGradient: GemmBackend

    public init(recurrent: GemmBackend, projection: GemmBackend, weightGradient: GemmBackend) {
        self.recurrent = recurrent
        self.projection = projection
        self.weightGradient = weightGradient
    }

    /// The fastest choice per class of product as measured (see above).
    public static let measured = GemmPolicy(recurrent: .ownSIMD, projection: .openBLAS, weightGradient: .openBLAS)
}
