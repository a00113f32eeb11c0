import Kernels

/// One worker's part of the classifier: the AWD-LSTM encoder over its sequences of a
/// minibatch, run from a zero state through all steps (backward truncated every `bptt` steps,
/// like fastai's SentenceEncoder), the masked concat pooling into its rows of features, and in
/// training fastai's AR and TAR on the last layer's output (`SequencePenalty`).
public final class ClassifierEncoder {
    public let encoder: AWDLSTMEncoder
    public let bptt: Int
    private let argmax: UnsafeMutablePointer<Int32>   // [b, E]
    private let dOutput: FloatBuffer                  // [L*b, E]
    private var lastLengths: [Int32] = []
    private var lastSteps = 0, lastStreams = 0
    /// The last layer's raw output of the last forward, [L*b, E] (inside `encoder`).
    private var lastOutput: UnsafePointer<Float>?
    private var lastRegularization: (ActivationRegularization, SequenceNormalizer)?

    public init(parameters: AWDLSTMParameters, streamCapacity b: Int, stepCapacity L: Int, bptt: Int = 70) {
        encoder = AWDLSTMEncoder(parameters: parameters, streamCapacity: b, stepCapacity: L)
        self.bptt = bptt
        argmax = .allocate(capacity: b * parameters.config.embeddingSize)
        argmax.initialize(repeating: 0, count: b * parameters.config.embeddingSize)
        dOutput = FloatBuffer(count: L * b * parameters.config.embeddingSize)
    }

    deinit { argmax.deallocate() }

    /// tokens: [L*b] time-major, padded after each sequence's `length`; features: [b, 3E] out.
    /// - Parameter regularization: training: fastai's AR/TAR coefficients and the minibatch-wide
    ///   counts they divide by; nil (evaluation) computes no penalty.
    /// - Returns: this worker's share of AR and TAR (zero without `regularization`); `backward`
    ///   adds their gradient.
    @discardableResult
    public func forward(tokens: UnsafePointer<Int32>, lengths: [Int32], steps L: Int,
                        params: UnsafePointer<Float>, shared: WeightDropState,
                        dropout: (key: DropoutKey, firstStream: Int)?,
                        regularization: (ActivationRegularization, SequenceNormalizer)? = nil,
                        features: UnsafeMutablePointer<Float>) -> SequencePenalty {
        let b = lengths.count, E = encoder.config.embeddingSize
        precondition(lengths.allSatisfy { $0 >= 1 && Int($0) <= L }, "sequence lengths must be in 1...\(L)")
        lastLengths = lengths; lastSteps = L; lastStreams = b
        lastRegularization = regularization
        encoder.resetState()
        let output = encoder.forward(tokens: tokens, steps: L, streams: b, params: params,
                                     shared: shared, dropout: dropout)
        lastOutput = output
        return lengths.withUnsafeBufferPointer {
            ConcatPooling.forward(output: output, lengths: $0.baseAddress!, streams: b,
                                  width: E, features: features, argmax: argmax)
            guard let (r, normalizer) = regularization else { return SequencePenalty() }
            return SequencePenalty.forward(output: output, lengths: $0.baseAddress!, steps: L, streams: b, width: E,
                                           regularization: r, normalizer: normalizer)
        }
    }

    /// dFeatures: [b, 3E], gradient w.r.t. this worker's pooled features. Adds the gradient of
    /// the last forward's AR/TAR (if it had `regularization`) and accumulates the encoder's
    /// gradients into `grads`: those `scope` asks for (`AWDLSTMEncoder.backward`), all when nil.
    public func backward(dFeatures: UnsafePointer<Float>, params: UnsafePointer<Float>,
                         shared: WeightDropState, grads: UnsafeMutablePointer<Float>,
                         scope: EncoderGradientScope? = nil) {
        let E = encoder.config.embeddingSize
        lastLengths.withUnsafeBufferPointer {
            ConcatPooling.backward(dFeatures: dFeatures, lengths: $0.baseAddress!, argmax: argmax,
                                   steps: lastSteps, streams: lastStreams, width: E, dOutput: dOutput.pointer)
            if let (r, normalizer) = lastRegularization, let output = lastOutput {
                SequencePenalty.backward(output: output, lengths: $0.baseAddress!, steps: lastSteps,
                                         streams: lastStreams, width: E, regularization: r, normalizer: normalizer,
                                         dOutput: dOutput.pointer)
            }
        }
        encoder.backward(dOutput: dOutput.pointer, params: params, shared: shared, grads: grads, chunk: bptt,
                         scope: scope)
    }
}
