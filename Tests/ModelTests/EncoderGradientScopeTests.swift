import Kernels
@testable import Model
import SeededRandom
import Testing

/// A backward pass limited to the trainable layers (gradual unfreezing) produces exactly the
/// gradients of the full backward for what trains, and touches nothing else.
@Suite struct EncoderGradientScopeTests {
    /// One classifier forward/backward (3 LSTM layers, every dropout, two BPTT chunks) with
    /// `scope`; returns the gradient buffer.
    func gradients(scope: EncoderGradientScope?) -> (grads: [Float], parameters: ClassifierParameters) {
        let config = AWDLSTMConfig.classifier(vocabSize: 11, embeddingSize: 6, hiddenSize: 9, layerCount: 3)
        let L = 7, b = 3, bptt = 4
        let parameters = ClassifierParameters(config: config, classCount: 2, headHidden: 5)
        let params = FloatBuffer(count: parameters.layout.count)
        let statistics = FloatBuffer(count: parameters.statisticsCount)
        parameters.initialize(params.pointer, statistics: statistics.pointer, seed: 5)
        let pass = ClassifierPass(parameters: parameters, streams: b, steps: L, bptt: bptt)
        let lengths: [Int32] = [7, 5, 2]
        var rng = CounterRandom(seed: 3)
        var tokens = [Int32](repeating: 0, count: L * b)
        for t in 0 ..< L { for j in 0 ..< b where t < lengths[j] { tokens[t * b + j] = Int32(2 + rng.next() % 9) } }
        let grads = FloatBuffer(count: parameters.layout.count)
        grads.zero()
        _ = pass.run(tokens: tokens, lengths: lengths, labels: [1, 0, 1], params: params, statistics: statistics,
                     key: DropoutKey(seed: 2, step: 1), regularization: ActivationRegularization(alpha: 2, beta: 1),
                     grads: grads, scope: scope)
        return (Array(UnsafeBufferPointer(start: grads.pointer, count: grads.count)), parameters)
    }

    /// fastai's freeze_to(-2), (-3), (-4) and unfreeze, plus two scopes gradual unfreezing never
    /// makes (a frozen layer between trainable ones, only the embedding): the frozen layers in
    /// between must still pass the gradient down.
    @Test(arguments: [
        EncoderGradientScope(embedding: false, layers: [false, false, true]),
        EncoderGradientScope(embedding: false, layers: [false, true, true]),
        EncoderGradientScope(embedding: false, layers: [true, true, true]),
        EncoderGradientScope(embedding: true, layers: [true, true, true]),
        EncoderGradientScope(embedding: true, layers: [false, true, false]),
        EncoderGradientScope(embedding: true, layers: [false, false, false]),
    ])
    func trainableGradientsAsInTheFullBackwardAndNothingElse(scope: EncoderGradientScope) {
        let (full, parameters) = gradients(scope: nil)
        let (scoped, _) = gradients(scope: scope)
        for spec in parameters.layout.specs {
            let trains: Bool
            if spec.name == "encoder.weight" { trains = scope.embedding }
            else if spec.name.hasPrefix("rnns.") { trains = scope.layers[Int(spec.name.split(separator: ".")[1])!] }
            else { trains = true }   // the head's gradients come before the encoder's backward
            let a = full[spec.range], s = scoped[spec.range]
            #expect(a.contains { $0 != 0 }, "\(spec.name): the full backward gives it a gradient")
            if trains {
                // The same operations in the same order on the same values: bitwise equal.
                #expect(Array(s) == Array(a), "\(spec.name) trains: its gradient must equal the full backward's")
            } else {
                #expect(s.allSatisfy { $0 == 0 }, "\(spec.name) is frozen: no gradient may be written")
            }
        }
    }

    /// What `bench step --task classifier --freeze-to` counts: the forward (2 FLOPs per MAC)
    /// plus the backward of the layers that run it.
    @Test func trainingFLOPsCountOnlyTheWorkDone() {
        // tiny: E = 64, H = 128, 3 layers. MACs per token: 4*128*(64+128) + 4*128*256 + 4*64*(128+64).
        let config = AWDLSTMConfig.classifier(vocabSize: 1025, embeddingSize: 64, hiddenSize: 128, layerCount: 3)
        let forward = 2.0 * Double(4 * 128 * 192 + 4 * 128 * 256 + 4 * 64 * 192)
        #expect(config.classifierTrainingFLOPsPerToken(scope: .all(layerCount: 3)) == 3 * forward)
        #expect(config.classifierTrainingFLOPsPerToken(scope: EncoderGradientScope(embedding: false, layers: [false, false, false])) == forward)
        // freeze_to(-2): the last layer (I = 128, H = 64) runs dh and its weight gradients, no dx.
        #expect(config.classifierTrainingFLOPsPerToken(scope: EncoderGradientScope(embedding: false, layers: [false, false, true]))
                == forward + 2 * Double(4 * 64 * 64 + 4 * 64 * 192))
        // A frozen middle layer passes dh and dx down, without weight gradients.
        #expect(config.classifierTrainingFLOPsPerToken(scope: EncoderGradientScope(embedding: true, layers: [false, false, false]))
                == forward + 2 * Double(4 * 128 * 128 + 4 * 128 * 64 + 4 * 128 * 128 + 4 * 128 * 128 + 4 * 64 * 64 + 4 * 64 * 128))
    }

    @Test func anEmptyScopeIsEmpty() {
        #expect(EncoderGradientScope(embedding: false, layers: [false, false]).isEmpty)
        #expect(!EncoderGradientScope(embedding: true, layers: [false, false]).isEmpty)
        #expect(!EncoderGradientScope.all(layerCount: 3).isEmpty)
    }
}
