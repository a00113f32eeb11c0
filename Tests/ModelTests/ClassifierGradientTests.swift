import Kernels
@testable import Model
import SeededRandom
import Testing

/// Finite-difference checks of the classifier: encoder over uneven, padded sequences with a
/// BPTT chunk boundary, masked concat pooling, BatchNorm (training statistics), head dropout,
/// linear layers, cross-entropy and fastai's AR/TAR over the real steps: every parameter tensor.
@Suite struct ClassifierGradientTests {
    func check(dropMult: Float, regularization: ActivationRegularization) {
        let config = AWDLSTMConfig.classifier(vocabSize: 9, embeddingSize: 4, hiddenSize: 5, layerCount: 2)
            .scaled(dropMult: dropMult)
        // One chunk: a truncated gradient is not the loss's derivative. Chunked truncation is
        // checked in LSTMLayerGradientTests, TAR across chunk boundaries by the PyTorch fixture.
        let L = 5, b = 4, bptt = 5
        let parameters = ClassifierParameters(config: config, classCount: 3, headHidden: 6,
                                              finalDropout: 0.1 * dropMult)
        let params = FloatBuffer(count: parameters.layout.count)
        let statistics = FloatBuffer(count: parameters.statisticsCount)
        parameters.initialize(params.pointer, statistics: statistics.pointer, seed: 4)
        for spec in parameters.layout.specs where spec.name.hasPrefix("rnns") || spec.name.hasPrefix("encoder") {
            for i in spec.range { params[i] *= 3 }
        }
        let pass = ClassifierPass(parameters: parameters, streams: b, steps: L, bptt: bptt)
        let lengths: [Int32] = [5, 3, 4, 1]
        var rng = CounterRandom(seed: 9)
        var tokens = [Int32](repeating: 0, count: L * b)
        for t in 0 ..< L { for j in 0 ..< b where t < lengths[j] { tokens[t * b + j] = Int32(2 + rng.next() % 7) } }
        let labels: [Int32] = [0, 2, 1, 2]
        let key = DropoutKey(seed: 1, step: 3)
        let grads = FloatBuffer(count: parameters.layout.count)
        let scratch = FloatBuffer(count: parameters.layout.count)

        func run(into g: FloatBuffer) -> Double {
            // Training mode throughout (BatchNorm on batch statistics); with dropMult 0 every
            // dropout probability is 0 and every mask is all ones.
            let (lossSum, penalty, _) = pass.run(tokens: tokens, lengths: lengths, labels: labels, params: params,
                                                 statistics: statistics, key: key, regularization: regularization, grads: g)
            return lossSum / Double(b) + penalty.ar + penalty.tar
        }
        _ = run(into: grads)
        pass.shared.maskGradients(grads.pointer, range: 0 ..< grads.count)
        for spec in parameters.layout.specs {
            expectGradientsMatch(name: spec.name, count: spec.count,
                                 analytic: { grads[spec.offset + $0] },
                                 perturb: { params[spec.offset + $0] += $1 },
                                 loss: { scratch.zero(); return run(into: scratch) })
        }
    }

    @Test func withoutDropout() { check(dropMult: 0, regularization: .none) }
    @Test func withEveryDropout() { check(dropMult: 1, regularization: .none) }
    /// TAR spans every real step of each sequence. Coefficients above fastai's (2, 1), so that a
    /// wrong factor in either term moves the gradient well past the tolerance.
    @Test func withActivationRegularization() {
        check(dropMult: 0, regularization: ActivationRegularization(alpha: 4, beta: 6))
    }
    @Test func withEveryDropoutAndActivationRegularization() {
        check(dropMult: 1, regularization: ActivationRegularization(alpha: 3, beta: 2))
    }
}
