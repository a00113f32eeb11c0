import Kernels

/// The weights a forward-only classifier reads, shared read-only by every worker: the flat
/// parameters, the BatchNorm running statistics, and each layer's recurrent matrix packed
/// once for the per-step products (inference has no weight dropout, so W_hh never changes:
/// training packs it every step, inference once).
public final class ClassifierForwardWeights: @unchecked Sendable {
    public let parameters: ClassifierParameters
    public let params: FloatBuffer
    public let statistics: FloatBuffer
    /// Per layer: W_hh^T packed as the forward product's B ([H, 4H]); nil with OpenBLAS.
    let packed: [PackedMatrix?]
    let gemm: GemmPolicy

    /// Copies `params` (the classifier's flat layout) and `statistics`, and packs W_hh.
    public init(parameters: ClassifierParameters, params: [Float], statistics: [Float],
                gemm: GemmPolicy = .measured) {
        precondition(params.count == parameters.layout.count && statistics.count == parameters.statisticsCount,
                     "ClassifierForwardWeights: \(params.count) parameters and \(statistics.count) statistics, "
                     + "the model has \(parameters.layout.count) and \(parameters.statisticsCount)")
        self.parameters = parameters
        self.params = FloatBuffer(params)
        self.statistics = FloatBuffer(statistics)
        self.gemm = gemm
        let c = parameters.encoder.config
        let base = self.params.pointer
        packed = parameters.encoder.layers.enumerated().map { l, layer in
            guard gemm.recurrent == .ownSIMD else { return nil }
            let h = c.outputSize(layer: l)
            return PackedMatrix(.transposed, k: h, n: 4 * h, b: base + layer.weightHH.offset, ldb: h)
        }
    }

    func lstm(layer l: Int) -> LSTMWeights {
        let s = parameters.encoder.layers[l], p = UnsafePointer(params.pointer)
        return LSTMWeights(weightIH: p + s.weightIH.offset, weightHH: p + s.weightHH.offset,
                           biasIH: p + s.biasIH.offset, biasHH: p + s.biasHH.offset,
                           packedForward: packed[l], packedBackward: nil, gemm: gemm)
    }
}

/// One worker's forward-only pooling classifier: the AWD-LSTM encoder without dropout over a
/// batch of sequences from a zero state, masked concat pooling, and the head in evaluation
/// mode (BatchNorm running statistics), giving logits. No gradient buffers, no dropout masks,
/// no per-step state kept for a backward pass: the recurrent layers run one at a time, and
/// the gates are computed `timeChunk` steps at a time, so memory is
/// ~ b x (L x (E + 3 H) + timeChunk x 4H) floats (paper model, b = 64, L = 124: ~110 MB)
/// instead of a training replica's ~10 x that.
///
/// Every sequence's result depends only on its own tokens and on the batch it is computed in
/// (the products' shapes), never on which worker runs it.
public final class ClassifierForward {
    public let weights: ClassifierForwardWeights
    public let sequenceCapacity: Int
    public let stepCapacity: Int
    /// Steps whose input projections are computed in one product (T x b rows: large enough
    /// for the batched product's efficiency, small enough to keep the gates in cache).
    public let timeChunk: Int

    private let embedded: FloatBuffer            // [L*b, E]
    private let outputs: [FloatBuffer]           // 2 x [(L+1)*b, max(H, E)], layers alternate
    private let cell: FloatBuffer                // [(chunk+1)*b, max(H, E)]
    private let gates: FloatBuffer               // [chunk*b, 4 max(H, E)]
    private let features: FloatBuffer            // [b, 3E]
    private let argmax: UnsafeMutablePointer<Int32>   // [b, E]
    private let head: ClassifierHead

    public init(weights: ClassifierForwardWeights, sequenceCapacity b: Int, stepCapacity L: Int,
                timeChunk: Int = 16) {
        precondition(b >= 1 && L >= 1 && timeChunk >= 1, "ClassifierForward: capacities must be positive")
        self.weights = weights
        sequenceCapacity = b
        stepCapacity = L
        self.timeChunk = min(timeChunk, L)
        let c = weights.parameters.encoder.config, E = c.embeddingSize
        let widest = max(E, c.hiddenSize)
        embedded = FloatBuffer(count: L * b * E)
        outputs = (0 ..< 2).map { _ in FloatBuffer(count: (L + 1) * b * widest) }
        cell = FloatBuffer(count: (self.timeChunk + 1) * b * widest)
        gates = FloatBuffer(count: self.timeChunk * b * 4 * widest)
        features = FloatBuffer(count: b * 3 * E)
        argmax = .allocate(capacity: b * E)
        argmax.initialize(repeating: 0, count: b * E)
        head = ClassifierHead(parameters: weights.parameters, capacity: b)
    }

    deinit { argmax.deallocate() }

    /// Logits of a batch: tokens [L*b] time-major, padded after each row's `lengths[j]`
    /// (1...L); ids in 0..<vocabSize (checked by the caller). Returns [b, C] (valid until the
    /// next call).
    public func logits(tokens: UnsafePointer<Int32>, lengths: UnsafePointer<Int32>,
                       sequences b: Int, steps L: Int) -> UnsafePointer<Float> {
        precondition(b >= 1 && b <= sequenceCapacity && L >= 1 && L <= stepCapacity,
                     "batch of \(b) x \(L) outside the capacity \(sequenceCapacity) x \(stepCapacity)")
        let p = weights.parameters, c = p.encoder.config, E = c.embeddingSize
        let params = UnsafePointer(weights.params.pointer)
        let table = params + p.encoder.embedding.offset
        for row in 0 ..< L * b {
            (embedded.pointer + row * E).update(from: table + Int(tokens[row]) * E, count: E)
        }
        var x = UnsafePointer(embedded.pointer)
        var last = UnsafePointer(embedded.pointer)
        for l in 0 ..< c.layerCount {
            let I = c.inputSize(layer: l), H = c.outputSize(layer: l)
            let h = outputs[l % 2].pointer
            h.update(repeating: 0, count: b * H)            // zero state before the sequence
            cell.pointer.update(repeating: 0, count: b * H)
            let w = weights.lstm(layer: l)
            var t0 = 0
            while t0 < L {
                let n = min(timeChunk, L - t0)
                LSTMLayer.forward(x: x + t0 * b * I, weights: w, gates: gates.pointer, h: h + t0 * b * H,
                                  c: cell.pointer, steps: n, streams: b, input: I, hidden: H)
                cell.pointer.update(from: cell.pointer + n * b * H, count: b * H)   // carry c to the next chunk
                t0 += n
            }
            x = UnsafePointer(h + b * H)
            last = x
        }
        ConcatPooling.forward(output: last, lengths: lengths, streams: b, width: E, features: features.pointer,
                              argmax: argmax)
        head.forward(features: features.pointer, rows: b, params: params,
                     statistics: weights.statistics.pointer, dropout: nil)
        return UnsafePointer(head.logits.pointer)
    }
}
