import Kernels
@testable import Model

/// One training-mode step of the pooling classifier on one shard, as `ClassifierTrainer` runs
/// it: weight-dropped W_hh prepared, encoder and masked concat pooling, the head (BatchNorm on
/// batch statistics), cross-entropy and the backward, gradients accumulated into `grads`.
/// The classifier's gradient tests (finite differences, PyTorch parity, gradient scopes) share it.
struct ClassifierPass {
    let parameters: ClassifierParameters
    let encoder: ClassifierEncoder
    let head: ClassifierHead
    let shared: WeightDropState
    /// [b, 3E]: the pooled features of the last `run`.
    let features: FloatBuffer
    let streams: Int

    init(parameters: ClassifierParameters, streams b: Int, steps L: Int, bptt: Int) {
        self.parameters = parameters
        encoder = ClassifierEncoder(parameters: parameters.encoder, streamCapacity: b, stepCapacity: L, bptt: bptt)
        head = ClassifierHead(parameters: parameters, capacity: b)
        shared = WeightDropState(parameters: parameters.encoder)
        features = FloatBuffer(count: b * 3 * parameters.encoder.config.embeddingSize)
        streams = b
    }

    /// tokens: [L*b] time-major, padded after each row's length. Returns the summed
    /// cross-entropy, the AR/TAR penalty and the logits (copied before the backward replaces them).
    func run(tokens: [Int32], lengths: [Int32], labels: [Int32], params: FloatBuffer, statistics: FloatBuffer,
             key: DropoutKey, regularization: ActivationRegularization, grads: FloatBuffer,
             scope: EncoderGradientScope? = nil) -> (lossSum: Double, penalty: SequencePenalty, logits: [Float]) {
        let b = streams, L = tokens.count / b
        precondition(L * b == tokens.count && lengths.count == b, "tokens must be [L*b] time-major for \(b) streams")
        shared.prepareAndPack(params: params.pointer, key: key)
        let penalty = encoder.forward(tokens: tokens, lengths: lengths, steps: L, params: params.pointer,
                                      shared: shared, dropout: (key, 0),
                                      regularization: (regularization, SequenceNormalizer(lengths: lengths.map { Int($0) })),
                                      features: features.pointer)
        head.forward(features: features.pointer, rows: b, params: params.pointer,
                     statistics: statistics.pointer, dropout: key)
        let logits = Array(head.logits.array.prefix(b * parameters.classCount))
        let (lossSum, _) = labels.withUnsafeBufferPointer {
            head.lossAndBackward(labels: $0.baseAddress!, params: params.pointer, grads: grads.pointer,
                                 gradScale: 1 / Float(b))
        }
        encoder.backward(dFeatures: head.dFeatures.pointer, params: params.pointer, shared: shared,
                         grads: grads.pointer, scope: scope)
        return (lossSum, penalty, logits)
    }
}
