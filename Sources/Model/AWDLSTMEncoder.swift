import Kernels

/// One worker's replica of the AWD-LSTM encoder: its activations, masks, gradient scratch and
/// recurrent state for up to `streamCapacity` streams and `stepCapacity` time steps, allocated
/// once (by the worker, so the memory is local to it) and reused every step.
///
/// Forward: embedding (with embedding and input dropout) -> LSTM layers with locked hidden
/// dropout between them. The last layer's raw output is returned; output dropout belongs to
/// whatever reads it (the LM decoder or the pooling classifier), as in fastai.
public final class AWDLSTMEncoder {
    public let parameters: AWDLSTMParameters
    public var config: AWDLSTMConfig { parameters.config }
    public let streamCapacity: Int
    public let stepCapacity: Int

    // Activations, time-major (row t*b + j); shapes and sizes in `EncoderActivationSizes`.
    private let embedded: FloatBuffer          // [L*b, E] embedding output after dropout
    private let inputMask: FloatBuffer         // [b, E]
    private let gates: [FloatBuffer]           // per layer [L*b, 4H]
    private let hidden: [FloatBuffer]          // per layer [(L+1)*b, H], block 0 = carried state
    private let cell: [FloatBuffer]            // per layer [(L+1)*b, H]
    private let dropped: [FloatBuffer]         // per layer but the last [L*b, H]: next layer's input
    private let hiddenMasks: [FloatBuffer]     // per layer but the last [b, H]
    // Backward scratch.
    private let gradA: FloatBuffer, gradB: FloatBuffer   // [L*b, max width], ping-pong
    private let stepScratch: FloatBuffer                 // [2*b*maxH]

    /// The streams and steps of the last forward pass (backward reuses them).
    private var lastStreams = 0, lastSteps = 0, lastTraining = false
    private var lastTokens: UnsafePointer<Int32>?
    private var lastEmbeddingMask: UnsafePointer<Float>?

    public init(parameters: AWDLSTMParameters, streamCapacity b: Int, stepCapacity L: Int) {
        self.parameters = parameters
        streamCapacity = b
        stepCapacity = L
        // Sizes from the table the memory estimate reads too (`allocatedBytes`).
        let size = EncoderActivationSizes(config: parameters.config, streams: b, steps: L)
        func buffer(_ floats: Double) -> FloatBuffer { FloatBuffer(count: Int(floats)) }
        embedded = buffer(size.embedded)
        inputMask = buffer(size.inputMask)
        gates = size.gates.map(buffer)
        hidden = size.hidden.map(buffer)
        cell = size.cell.map(buffer)
        dropped = size.dropped.map(buffer)
        hiddenMasks = size.hiddenMasks.map(buffer)
        gradA = buffer(size.gradient)
        gradB = buffer(size.gradient)
        stepScratch = buffer(size.stepScratch)
    }

    /// Zeroes the recurrent state (start of a corpus pass, or of every classifier batch).
    public func resetState() {
        for l in 0 ..< config.layerCount {
            let n = streamCapacity * config.outputSize(layer: l)
            hidden[l].pointer.update(repeating: 0, count: n)
            cell[l].pointer.update(repeating: 0, count: n)
        }
    }

    /// Carries the state after the last forward pass over to the next window (truncated BPTT:
    /// values are kept, gradients are not).
    public func carryState() {
        let b = lastStreams, T = lastSteps
        for l in 0 ..< config.layerCount {
            let H = config.outputSize(layer: l)
            hidden[l].pointer.update(from: hidden[l].pointer + T * b * H, count: b * H)
            cell[l].pointer.update(from: cell[l].pointer + T * b * H, count: b * H)
        }
    }

    /// The carried state (h then c of each layer) for checkpoints and tests: [b, H] blocks.
    public func state(layer l: Int) -> (h: [Float], c: [Float]) {
        let n = lastStreams * config.outputSize(layer: l)
        return (Array(UnsafeBufferPointer(start: hidden[l].pointer, count: n)),
                Array(UnsafeBufferPointer(start: cell[l].pointer, count: n)))
    }

    /// The state carried into the next window for all `streamCapacity` streams of layer `l`:
    /// h and c as [streamCapacity, H] (checkpoints; valid before any forward pass too).
    public func carriedState(layer l: Int) -> (h: [Float], c: [Float]) {
        let n = streamCapacity * config.outputSize(layer: l)
        return (Array(UnsafeBufferPointer(start: hidden[l].pointer, count: n)),
                Array(UnsafeBufferPointer(start: cell[l].pointer, count: n)))
    }

    /// Sets the carried state of layer `l` (a checkpoint's): h and c as [streamCapacity, H].
    public func setCarriedState(layer l: Int, h: ArraySlice<Float>, c: ArraySlice<Float>) {
        let n = streamCapacity * config.outputSize(layer: l)
        precondition(h.count == n && c.count == n, "state of layer \(l) needs \(n) values, got \(h.count) and \(c.count)")
        h.withUnsafeBufferPointer { hidden[l].pointer.update(from: $0.baseAddress!, count: n) }
        c.withUnsafeBufferPointer { cell[l].pointer.update(from: $0.baseAddress!, count: n) }
    }

    /// Runs the encoder over `steps` x `streams` tokens (time-major) and returns the last
    /// layer's raw output, [T*b, E] (valid until the next forward).
    ///   dropout: nil for evaluation; else the step key and the global index of stream 0.
    public func forward(tokens: UnsafePointer<Int32>, steps T: Int, streams b: Int,
                        params: UnsafePointer<Float>, shared: WeightDropState,
                        dropout: (key: DropoutKey, firstStream: Int)?) -> UnsafePointer<Float> {
        precondition(b <= streamCapacity && T <= stepCapacity, "batch larger than the replica's capacity")
        let c = config, E = c.embeddingSize
        lastStreams = b; lastSteps = T; lastTraining = dropout != nil; lastTokens = tokens
        lastEmbeddingMask = dropout != nil ? UnsafePointer(shared.embeddingMask.pointer) : nil

        // Embedding lookup with embedding dropout (row scales) and input dropout (locked).
        let table = params + parameters.embedding.offset
        for row in 0 ..< T * b {
            let token = Int(tokens[row])
            precondition(token >= 0 && token < c.vocabSize, "token id \(token) outside the vocabulary")
            let dst = embedded.pointer + row * E
            dst.update(from: table + token * E, count: E)
            if let m = lastEmbeddingMask, m[token] != 1 {
                let s = m[token]
                for e in 0 ..< E { dst[e] *= s }
            }
        }
        if let (key, first) = dropout {
            RNNDropout(p: c.inputP, purpose: .inputDropout)
                .fillMask(inputMask.pointer, streams: b, firstStream: first, width: E, layer: 0, key: key)
            RNNDropout.apply(embedded.pointer, mask: inputMask.pointer, rows: T * b, streams: b, width: E)
        }

        var x = UnsafePointer(embedded.pointer)
        for l in 0 ..< c.layerCount {
            let I = c.inputSize(layer: l), H = c.outputSize(layer: l)
            LSTMLayer.forward(x: x, weights: weights(l, params, shared), gates: gates[l].pointer,
                              h: hidden[l].pointer, c: cell[l].pointer,
                              steps: T, streams: b, input: I, hidden: H)
            let out = hidden[l].pointer + b * H
            if l == c.layerCount - 1 { return UnsafePointer(out) }
            // Locked dropout between layers.
            dropped[l].pointer.update(from: out, count: T * b * H)
            if let (key, first) = dropout {
                RNNDropout(p: c.hiddenP, purpose: .hiddenDropout)
                    .fillMask(hiddenMasks[l].pointer, streams: b, firstStream: first, width: H, layer: l, key: key)
                RNNDropout.apply(dropped[l].pointer, mask: hiddenMasks[l].pointer, rows: T * b, streams: b, width: H)
            }
            x = UnsafePointer(dropped[l].pointer)
        }
        fatalError("unreachable: the loop returns at the last layer")
    }

    /// Backpropagates `dOutput` ([T*b, E], gradient w.r.t. the last layer's raw output of the
    /// last forward) and accumulates (+=) the encoder gradients `scope` asks for into `grads`
    /// (flat layout); the others are left untouched, and layers below the lowest trainable
    /// part are not visited.
    /// `chunk`: steps between detached states (T for the LM; the BPTT length for the classifier).
    public func backward(dOutput: UnsafePointer<Float>, params: UnsafePointer<Float>,
                         shared: WeightDropState, grads: UnsafeMutablePointer<Float>, chunk: Int,
                         scope: EncoderGradientScope? = nil) {
        let c = config, b = lastStreams, T = lastSteps, E = c.embeddingSize
        let scope = scope ?? .all(layerCount: c.layerCount)
        precondition(scope.layers.count == c.layerCount, "gradient scope for \(scope.layers.count) layers, the encoder has \(c.layerCount)")
        var dh = UnsafeMutablePointer(mutating: dOutput)
        var writeA = true   // layers alternate between the two scratch buffers
        for l in stride(from: c.layerCount - 1, through: 0, by: -1) where scope.needsBackward(layer: l) {
            let I = c.inputSize(layer: l), H = c.outputSize(layer: l)
            let x = l == 0 ? UnsafePointer(embedded.pointer) : UnsafePointer(dropped[l - 1].pointer)
            let dx = scope.needsInputGradient(layer: l) ? (writeA ? gradA.pointer : gradB.pointer) : nil
            writeA.toggle()
            LSTMLayer.backward(x: x, weights: weights(l, params, shared),
                               gradients: scope.layers[l] ? gradients(l, grads) : nil, gates: gates[l].pointer,
                               h: hidden[l].pointer, c: cell[l].pointer, dhAbove: dh, dx: dx,
                               scratch: stepScratch.pointer,
                               steps: T, streams: b, input: I, hidden: H, chunk: chunk)
            guard let dx else { return }
            // Through the dropout that produced this layer's input.
            if lastTraining {
                let mask = l == 0 ? inputMask.pointer : hiddenMasks[l - 1].pointer
                RNNDropout.apply(dx, mask: mask, rows: T * b, streams: b, width: I)
            }
            dh = dx
        }
        // Embedding gradient: scatter-add rows, scaled by the embedding-dropout row mask.
        // The padding row (id 0) gets no gradient, like nn.Embedding(padding_idx=0).
        guard scope.embedding, let tokens = lastTokens else { return }
        let dTable = grads + parameters.embedding.offset
        for row in 0 ..< T * b {
            let token = Int(tokens[row])
            if token == 0 { continue }
            let s = lastEmbeddingMask?[token] ?? 1
            if s == 0 { continue }
            axpy(s, dh + row * E, dTable + token * E, count: E)
        }
    }

    private func weights(_ l: Int, _ params: UnsafePointer<Float>, _ shared: WeightDropState) -> LSTMWeights {
        let s = parameters.layers[l]
        let packed = shared.packed(layer: l)
        return LSTMWeights(weightIH: params + s.weightIH.offset, weightHH: shared.weightHH(layer: l, params: params),
                           biasIH: params + s.biasIH.offset, biasHH: params + s.biasHH.offset,
                           packedForward: packed.forward, packedBackward: packed.backward, gemm: shared.gemm)
    }

    private func gradients(_ l: Int, _ grads: UnsafeMutablePointer<Float>) -> LSTMGradients {
        let s = parameters.layers[l]
        return LSTMGradients(weightIH: grads + s.weightIH.offset, weightHH: grads + s.weightHH.offset,
                             biasIH: grads + s.biasIH.offset, biasHH: grads + s.biasHH.offset)
    }
}
