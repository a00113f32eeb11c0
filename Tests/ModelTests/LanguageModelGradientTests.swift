import Kernels
@testable import Model
import SeededRandom
import Testing

/// Finite-difference checks of the whole language model (encoder, every dropout kind with
/// fixed masks, tied decoder, cross-entropy, AR and TAR) for every parameter tensor.
@Suite struct LanguageModelGradientTests {
    func check(dropMult: Float, regularization: ActivationRegularization) {
        var config = AWDLSTMConfig(vocabSize: 7, embeddingSize: 4, hiddenSize: 5, layerCount: 3)
        config = config.scaled(dropMult: dropMult)
        let T = 4, b = 3
        let parameters = LanguageModelParameters(config: config)
        let params = FloatBuffer(count: parameters.layout.count)
        parameters.initialize(params.pointer, seed: 3)
        // Larger weights than the default init so every path carries signal.
        for i in 0 ..< params.count { params[i] *= 3 }
        let model = LanguageModel(parameters: parameters, streamCapacity: b, steps: T)
        let shared = WeightDropState(parameters: parameters.encoder)
        var rng = CounterRandom(seed: 11)
        let tokens = (0 ..< T * b).map { _ in Int32(1 + rng.next() % 6) }
        let targets = (0 ..< T * b).map { _ in Int32(rng.next() % 7) }
        let key = DropoutKey(seed: 5, step: 2)
        let dropout: (key: DropoutKey, firstStream: Int)? = dropMult > 0 ? (key, 0) : nil
        let normalizer = LossNormalizer(streams: b, steps: T)
        let grads = FloatBuffer(count: parameters.layout.count)
        let scratch = FloatBuffer(count: parameters.layout.count)

        func run(into g: FloatBuffer) -> Double {
            model.encoder.resetState()
            shared.prepareAndPack(params: params.pointer, key: dropout?.key)
            let loss = model.trainStep(tokens: tokens, targets: targets, steps: T, streams: b,
                                       params: params.pointer, shared: shared, grads: g.pointer,
                                       dropout: dropout, normalizer: normalizer,
                                       regularization: regularization)
            return loss.crossEntropySum / Double(normalizer.tokens) + loss.ar + loss.tar
        }
        _ = run(into: grads)
        shared.maskGradients(grads.pointer, range: 0 ..< grads.count)

        for spec in parameters.layout.specs {
            expectGradientsMatch(name: spec.name, count: spec.count,
                                 analytic: { grads[spec.offset + $0] },
                                 perturb: { params[spec.offset + $0] += $1 },
                                 loss: { scratch.zero(); return run(into: scratch) })
        }
    }

    @Test func withoutDropoutOrRegularization() {
        check(dropMult: 0, regularization: .none)
    }

    @Test func withEveryDropoutAndARTAR() {
        check(dropMult: 1.5, regularization: ActivationRegularization(alpha: 2, beta: 1))
    }
}
