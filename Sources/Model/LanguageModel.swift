import Dispatch
import Kernels

/// The language model's parameters: the encoder plus the decoder bias (the decoder weight is
/// tied to the embedding).
public struct LanguageModelParameters: Sendable {
    public let encoder: AWDLSTMParameters
    /// [V]
    public let decoderBias: ParameterSpec
    public let layout: ParameterLayout

    public init(config: AWDLSTMConfig) {
        var layout = ParameterLayout()
        encoder = AWDLSTMParameters(config: config, layout: &layout)
        decoderBias = layout.add("decoder.bias", shape: [config.vocabSize], group: "embedding")
        self.layout = layout
    }

    /// fastai's layer groups for the language model, in discriminative-LR order:
    /// each LSTM layer, then embedding + decoder.
    public var layerGroupOrder: [String] {
        (0 ..< encoder.config.layerCount).map { "rnn.\($0)" } + ["embedding"]
    }

    /// Encoder initialization; the decoder bias starts at zero.
    public func initialize(_ params: UnsafeMutablePointer<Float>, seed: UInt64) {
        encoder.initialize(params, seed: seed)
        params.advanced(by: decoderBias.offset).update(repeating: 0, count: decoderBias.count)
    }
}

/// Denominators of the minibatch-wide means, so each worker's partial gradients sum to the
/// gradient of the whole minibatch's loss.
public struct LossNormalizer: Sendable {
    /// Streams in the whole minibatch (all workers).
    public var streams: Int
    /// Time steps in this window.
    public var steps: Int
    public init(streams: Int, steps: Int) {
        self.streams = streams
        self.steps = steps
    }
    public var tokens: Int { streams * steps }
}

/// fastai's RNNRegularizer coefficients: activation regularization (AR, on the dropped last
/// output) and temporal activation regularization (TAR, on the raw last output).
public struct ActivationRegularization: Sendable {
    public var alpha: Float = 2
    public var beta: Float = 1
    public init(alpha: Float = 2, beta: Float = 1) {
        self.alpha = alpha
        self.beta = beta
    }
    public static let none = ActivationRegularization(alpha: 0, beta: 0)
}

/// A worker's partial losses, as sums; divide by the normalizer's counts for means.
public struct LanguageModelLoss: Sendable, Equatable {
    /// Sum of token cross-entropies (nats).
    public var crossEntropySum: Double = 0
    /// Tokens whose arg-max prediction was right.
    public var correct: Int = 0
    /// alpha * mean(dropped^2) contribution of this worker (already normalized globally).
    public var ar: Double = 0
    /// beta * mean(dh^2) contribution of this worker (already normalized globally).
    public var tar: Double = 0
    public init() {}

    public static func + (a: Self, b: Self) -> Self {
        var s = a
        s.crossEntropySum += b.crossEntropySum; s.correct += b.correct; s.ar += b.ar; s.tar += b.tar
        return s
    }
}

/// One worker's replica of the AWD-LSTM language model: encoder, output dropout, tied decoder,
/// cross-entropy and the AR/TAR regularizer, forward and backward.
public final class LanguageModel {
    public let parameters: LanguageModelParameters
    public let encoder: AWDLSTMEncoder
    public var config: AWDLSTMConfig { parameters.encoder.config }

    private let outputMask: FloatBuffer   // [b, E]
    private let dropped: FloatBuffer      // [T*b, E]
    private let logits: FloatBuffer       // [T*b, V]; probabilities, then dLogits
    private let dRaw: FloatBuffer         // [T*b, E]
    /// Wall time of the last `trainStep`'s forward (encoder, decoder, loss) and backward.
    public private(set) var lastForwardNanoseconds: UInt64 = 0
    public private(set) var lastBackwardNanoseconds: UInt64 = 0

    public init(parameters: LanguageModelParameters, streamCapacity b: Int, steps T: Int) {
        self.parameters = parameters
        encoder = AWDLSTMEncoder(parameters: parameters.encoder, streamCapacity: b, stepCapacity: T)
        let c = parameters.encoder.config
        outputMask = FloatBuffer(count: b * c.embeddingSize)
        dropped = FloatBuffer(count: T * b * c.embeddingSize)
        logits = FloatBuffer(count: T * b * c.vocabSize)
        dRaw = FloatBuffer(count: T * b * c.embeddingSize)
    }

    /// Forward and backward over one BPTT window of this worker's streams; gradients are
    /// accumulated into `grads`. The recurrent state is carried to the next window.
    ///   tokens, targets: [T*b] time-major. dropout: nil disables every dropout.
    public func trainStep(tokens: UnsafePointer<Int32>, targets: UnsafePointer<Int32>,
                          steps T: Int, streams b: Int,
                          params: UnsafePointer<Float>, shared: WeightDropState,
                          grads: UnsafeMutablePointer<Float>,
                          dropout: (key: DropoutKey, firstStream: Int)?,
                          normalizer: LossNormalizer,
                          regularization: ActivationRegularization) -> LanguageModelLoss {
        let c = config, E = c.embeddingSize, V = c.vocabSize, N = T * b
        let start = DispatchTime.now().uptimeNanoseconds
        let raw = encoder.forward(tokens: tokens, steps: T, streams: b, params: params,
                                  shared: shared, dropout: dropout)
        // Output dropout (locked).
        dropped.pointer.update(from: raw, count: N * E)
        if let (key, first) = dropout {
            RNNDropout(p: c.outputP, purpose: .outputDropout)
                .fillMask(outputMask.pointer, streams: b, firstStream: first, width: E, layer: 0, key: key)
            RNNDropout.apply(dropped.pointer, mask: outputMask.pointer, rows: N, streams: b, width: E)
        }
        var loss = decode(steps: T, streams: b, params: params, targets: targets,
                          gradScale: 1 / Float(normalizer.tokens), backend: shared.gemm.projection)
        let forwardEnd = DispatchTime.now().uptimeNanoseconds
        lastForwardNanoseconds = forwardEnd - start

        // Backward through the tied decoder: dDropped = dLogits E ; dE += dLogits^T dropped.
        let table = params + parameters.encoder.embedding.offset
        gemm(.none, .none, m: N, n: E, k: V, a: logits.pointer, lda: V, b: table, ldb: E,
             beta: 0, c: dRaw.pointer, ldc: E, backend: shared.gemm.projection)
        gemm(.transposed, .none, m: V, n: E, k: N, a: logits.pointer, lda: V, b: dropped.pointer, ldb: E,
             beta: 1, c: grads + parameters.encoder.embedding.offset, ldc: E, backend: shared.gemm.weightGradient)
        addColumnSums(logits.pointer, rows: N, columns: V, into: grads + parameters.decoderBias.offset)

        // AR: alpha * mean(dropped^2) over the whole minibatch (every row real: no lengths).
        let arCount = Float(normalizer.tokens * E)
        if regularization.alpha != 0 {
            let sum = ActivationPenalty.sumOfSquares(dropped.pointer, steps: T, streams: b, width: E, lengths: nil)
            loss.ar = Double(regularization.alpha) * sum / Double(arCount)
            ActivationPenalty.addGradientOfSquares(dropped.pointer, scale: 2 * regularization.alpha / arCount,
                                                   into: dRaw.pointer, steps: T, streams: b, width: E, lengths: nil)
        }
        if dropout != nil {
            RNNDropout.apply(dRaw.pointer, mask: outputMask.pointer, rows: N, streams: b, width: E)
        }
        // TAR: beta * mean((h_{t+1} - h_t)^2) over the raw output, within the window.
        if regularization.beta != 0 && T > 1 {
            let tarCount = Float(normalizer.streams * (T - 1) * E)
            let sum = ActivationPenalty.sumOfDifferences(raw, steps: T, streams: b, width: E, lengths: nil,
                                                         scale: 2 * regularization.beta / tarCount,
                                                         gradientInto: dRaw.pointer)
            loss.tar = Double(regularization.beta) * sum / Double(tarCount)
        }
        encoder.backward(dOutput: dRaw.pointer, params: params, shared: shared, grads: grads, chunk: T)
        encoder.carryState()
        lastBackwardNanoseconds = DispatchTime.now().uptimeNanoseconds - forwardEnd
        return loss
    }

    /// Forward only, no dropout (validation). The recurrent state is carried.
    public func evaluate(tokens: UnsafePointer<Int32>, targets: UnsafePointer<Int32>,
                         steps T: Int, streams b: Int,
                         params: UnsafePointer<Float>, shared: WeightDropState) -> LanguageModelLoss {
        let raw = encoder.forward(tokens: tokens, steps: T, streams: b, params: params,
                                  shared: shared, dropout: nil)
        dropped.pointer.update(from: raw, count: T * b * config.embeddingSize)
        let loss = decode(steps: T, streams: b, params: params, targets: targets, gradScale: nil,
                          backend: shared.gemm.projection)
        encoder.carryState()
        return loss
    }

    /// logits = dropped E^T + bias; cross-entropy per row. With `gradScale`, `logits` is
    /// replaced by dLoss/dLogits = (softmax - onehot) * gradScale.
    private func decode(steps T: Int, streams b: Int, params: UnsafePointer<Float>,
                        targets: UnsafePointer<Int32>, gradScale: Float?, backend: GemmBackend) -> LanguageModelLoss {
        let c = config, E = c.embeddingSize, V = c.vocabSize, N = T * b
        let table = params + parameters.encoder.embedding.offset
        gemm(.none, .transposed, m: N, n: V, k: E, a: dropped.pointer, lda: E, b: table, ldb: E,
             beta: 0, c: logits.pointer, ldc: V, backend: backend)
        var loss = LanguageModelLoss()
        let bias = params + parameters.decoderBias.offset
        for row in 0 ..< N {
            let z = logits.pointer + row * V
            add(bias, into: z, count: V)
            let target = Int(targets[row])
            if let gradScale {
                let (rowLoss, argmax) = Softmax.crossEntropyGradient(z, count: V, target: target, scale: gradScale)
                loss.crossEntropySum += Double(rowLoss)
                if argmax == target { loss.correct += 1 }
            } else {
                let (logSumExp, argmax) = Softmax.logSumExpAndArgmax(z, count: V)
                loss.crossEntropySum += Double(logSumExp - z[target])
                if argmax == target { loss.correct += 1 }
            }
        }
        return loss
    }
}
