import Kernels

/// Pointers to one LSTM layer's parameters (PyTorch `nn.LSTM` layout, gates i, f, g, o).
public struct LSTMWeights {
    /// [4H, I]
    public var weightIH: UnsafePointer<Float>
    /// [4H, H]: the effective (weight-dropped) recurrent matrix used this minibatch.
    public var weightHH: UnsafePointer<Float>
    /// [4H]
    public var biasIH: UnsafePointer<Float>
    /// [4H]
    public var biasHH: UnsafePointer<Float>
    /// `weightHH` packed for the per-step products (forward: W_hh^T as [H, 4H]; backward:
    /// W_hh as [4H, H]), once per minibatch; nil uses OpenBLAS on the plain matrix.
    public var packedForward: PackedMatrix?
    public var packedBackward: PackedMatrix?
    /// The backends of the batched products (the per-step ones follow `packedForward`).
    public var gemm: GemmPolicy

    public init(weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>,
                biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>,
                packedForward: PackedMatrix? = nil, packedBackward: PackedMatrix? = nil,
                gemm: GemmPolicy = .measured) {
        self.weightIH = weightIH; self.weightHH = weightHH
        self.biasIH = biasIH; self.biasHH = biasHH
        self.packedForward = packedForward; self.packedBackward = packedBackward
        self.gemm = gemm
    }
}

/// Pointers to the same layer's gradient accumulators (in the flat gradient buffer).
public struct LSTMGradients {
    public var weightIH: UnsafeMutablePointer<Float>
    /// Gradient w.r.t. the EFFECTIVE recurrent matrix; weight dropout's mask is applied to it
    /// once, after the all-reduce.
    public var weightHH: UnsafeMutablePointer<Float>
    public var biasIH: UnsafeMutablePointer<Float>
    public var biasHH: UnsafeMutablePointer<Float>
}

/// One LSTM layer over a window: forward and backward as plain functions (llm.c style).
///
/// Shapes: T = time steps, b = streams (rows per step), I = input size, H = hidden size.
/// Activations are time-major: row `t*b + j` is stream j at step t.
/// `h` and `c` hold T+1 row blocks: block 0 is the state before the window, block t+1 the
/// state after step t.
public enum LSTMLayer {
    /// gates = x W_ih^T for all T steps in one GEMM, then per step gates_t += h_{t-1} W_hh^T
    /// and the fused cell (which adds b_ih + b_hh).
    ///   x: [T*b, I]  gates: [T*b, 4H] (post-activations out)  h, c: [(T+1)*b, H]
    public static func forward(x: UnsafePointer<Float>, weights w: LSTMWeights,
                               gates: UnsafeMutablePointer<Float>,
                               h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
                               steps T: Int, streams b: Int, input I: Int, hidden H: Int) {
        let G = 4 * H
        gemm(.none, .transposed, m: T * b, n: G, k: I, a: x, lda: I, b: w.weightIH, ldb: I,
             beta: 0, c: gates, ldc: G, backend: w.gemm.projection)
        let activation = GateActivation(biasIH: w.biasIH, biasHH: w.biasHH, hidden: H)
        for t in 0 ..< T {
            let gt = gates + t * b * G
            if let packed = w.packedForward {
                // Biases and nonlinearities in the product's epilogue, on each tile while it is in L1.
                gemm(m: b, a: h + t * b * H, lda: H, packedB: packed, beta: 1, c: gt, ldc: G, activation: activation)
                LSTMCell.update(gates: gt, cPrev: c + t * b * H, cNext: c + (t + 1) * b * H,
                                hNext: h + (t + 1) * b * H, rows: b, hidden: H)
            } else {
                gemm(.none, .transposed, m: b, n: G, k: H, a: h + t * b * H, lda: H,
                     b: w.weightHH, ldb: H, beta: 1, c: gt, ldc: G)
                LSTMCell.forward(gates: gt, biasIH: w.biasIH, biasHH: w.biasHH, cPrev: c + t * b * H,
                                 cNext: c + (t + 1) * b * H, hNext: h + (t + 1) * b * H, rows: b, hidden: H)
            }
        }
    }

    /// Backward through the window. Truncated BPTT: the recurrent gradient is cut at the start
    /// of the window and at every `chunk` steps (the classifier runs the encoder in BPTT-sized
    /// chunks with detached state between them, as fastai's SentenceEncoder does).
    ///   dhAbove: [T*b, H] gradient w.r.t. each step's output h
    ///   gates:   post-activations in, overwritten with dG
    ///   dx:      [T*b, I] out (skipped when nil)
    ///   scratch: 2*b*H floats
    /// Weight gradients are accumulated (+=) with one GEMM each over all T steps (skipped when
    /// `gradients` is nil: a frozen layer that only passes the gradient down).
    public static func backward(x: UnsafePointer<Float>, weights w: LSTMWeights,
                                gradients dw: LSTMGradients?,
                                gates: UnsafeMutablePointer<Float>,
                                h: UnsafePointer<Float>, c: UnsafePointer<Float>,
                                dhAbove: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                scratch: UnsafeMutablePointer<Float>,
                                steps T: Int, streams b: Int, input I: Int, hidden H: Int,
                                chunk: Int) {
        let G = 4 * H
        let dhRec = scratch, dcCarry = scratch + b * H
        for t in stride(from: T - 1, through: 0, by: -1) {
            let chunkEnd = t == T - 1 || (t + 1) % chunk == 0
            if chunkEnd { dcCarry.update(repeating: 0, count: b * H) }
            LSTMCell.backward(gates: gates + t * b * G, cPrev: c + t * b * H,
                              c: c + (t + 1) * b * H, dhAbove: dhAbove + t * b * H,
                              dhRecurrent: chunkEnd ? nil : UnsafePointer(dhRec),
                              dcCarry: dcCarry, rows: b, hidden: H)
            // dh_{t-1} = dG_t W_hh, unless t starts a chunk (state there is detached).
            if t % chunk != 0 {
                if let packed = w.packedBackward {
                    gemm(m: b, a: gates + t * b * G, lda: G, packedB: packed, beta: 0, c: dhRec, ldc: H)
                } else {
                    gemm(.none, .none, m: b, n: H, k: G, a: gates + t * b * G, lda: G,
                         b: w.weightHH, ldb: H, beta: 0, c: dhRec, ldc: H)
                }
            }
        }
        // dW_ih += dG^T x ; dW_hh += dG^T h_{t-1} ; db += column sums of dG ; dx = dG W_ih
        if let dw {
            gemm(.transposed, .none, m: G, n: I, k: T * b, a: gates, lda: G, b: x, ldb: I,
                 beta: 1, c: dw.weightIH, ldc: I, backend: w.gemm.weightGradient)
            gemm(.transposed, .none, m: G, n: H, k: T * b, a: gates, lda: G, b: h, ldb: H,
                 beta: 1, c: dw.weightHH, ldc: H, backend: w.gemm.weightGradient)
            addColumnSums(gates, rows: T * b, columns: G, into: dw.biasIH, and: dw.biasHH)
        }
        if let dx {
            gemm(.none, .none, m: T * b, n: I, k: G, a: gates, lda: G, b: w.weightIH, ldb: I,
                 beta: 0, c: dx, ldc: I, backend: w.gemm.projection)
        }
    }
}
