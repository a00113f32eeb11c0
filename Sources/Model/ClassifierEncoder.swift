import Kernels

/// One worker's part of the classifier: the AWD-LSTM encoder over its sequences of a
/// minibatch, run from a zero state through all steps (backward truncated every `bptt` steps,
/// like fastai's SentenceEncoder), and the masked concat pooling into its rows of features.
public final class ClassifierEncoder {
    public let encoder: AWDLSTMEncoder
    public let bptt: Int
    private let argmax: UnsafeMutablePointer<Int32>   // [b, E]
    private let dOutput: FloatBuffer                  // [L*b, E]
    private var lastLengths: [Int32] = []
    private var lastSteps = 0, lastStreams = 0

    public init(parameters: AWDLSTMParameters, streamCapacity b: Int, stepCapacity L: Int, bptt: Int = 70) {
        encoder = AWDLSTMEncoder(parameters: parameters, streamCapacity: b, stepCapacity: L)
        self.bptt = bptt
        argmax = .allocate(capacity: b * parameters.config.embeddingSize)
        argmax.initialize(repeating: 0, count: b * parameters.config.embeddingSize)
        dOutput = FloatBuffer(count: L * b * parameters.config.embeddingSize)
    }

    deinit { argmax.deallocate() }

    /// tokens: [L*b] time-major, padded after each sequence's `length`; features: [b, 3E] out.
    public func forward(tokens: UnsafePointer<Int32>, lengths: [Int32], steps L: Int,
                        params: UnsafePointer<Float>, shared: WeightDropState,
                        dropout: (key: DropoutKey, firstStream: Int)?,
                        features: UnsafeMutablePointer<Float>) {
        let b = lengths.count
        precondition(lengths.allSatisfy { $0 >= 1 && Int($0) <= L }, "sequence lengths must be in 1...\(L)")
        lastLengths = lengths; lastSteps = L; lastStreams = b
        encoder.resetState()
        let output = encoder.forward(tokens: tokens, steps: L, streams: b, params: params,
                                     shared: shared, dropout: dropout)
        lengths.withUnsafeBufferPointer {
            ConcatPooling.forward(output: output, lengths: $0.baseAddress!, streams: b,
                                  width: encoder.config.embeddingSize, features: features, argmax: argmax)
        }
    }

    /// dFeatures: [b, 3E], gradient w.r.t. this worker's pooled features. Accumulates the
    /// encoder's gradients into `grads`.
    public func backward(dFeatures: UnsafePointer<Float>, params: UnsafePointer<Float>,
                         shared: WeightDropState, grads: UnsafeMutablePointer<Float>) {
        lastLengths.withUnsafeBufferPointer {
            ConcatPooling.backward(dFeatures: dFeatures, lengths: $0.baseAddress!, argmax: argmax,
                                   steps: lastSteps, streams: lastStreams,
                                   width: encoder.config.embeddingSize, dOutput: dOutput.pointer)
        }
        encoder.backward(dOutput: dOutput.pointer, params: params, shared: shared, grads: grads, chunk: bptt)
    }
}
