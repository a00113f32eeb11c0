import Foundation
import Checkpoint
import Kernels
import Model
@testable import Pipeline
import Testing

/// The encoder moves by name from a language model into a fresh classifier; the head keeps its
/// initialization; a checkpoint of another shape is refused, naming the file and the tensor.
@Suite struct EncoderTransferTests {
    static let lmConfig = AWDLSTMConfig(vocabSize: 7, embeddingSize: 4, hiddenSize: 5, layerCount: 2)

    /// A language-model checkpoint header and distinctive parameters (value = 1000 + index).
    static func languageModel(_ config: AWDLSTMConfig = lmConfig, dropping: String? = nil,
                              keep: Int? = nil) -> (ModelCheckpoint, [Float], LanguageModelParameters) {
        let parameters = LanguageModelParameters(config: config)
        let params = (0 ..< parameters.layout.count).map { Float(1000 + $0) }
        let tensors = parameters.layout.specs.filter { $0.name != dropping }
            .map { CheckpointManifest.Tensor(name: $0.name, shape: $0.shape, offset: $0.offset) }
        let header = ModelCheckpoint(kind: .languageModel, shape: .init(config: config), vocabularyTokens: [], k: 1, stride: 1,
                                     tensors: tensors, step: 3, params: Array(params.prefix(keep ?? params.count)),
                                     statistics: [], path: "lm/checkpoints/step-000003", resolution: "")
        return (header, params, parameters)
    }

    @Test func copiesExactlyTheEncoderTensors() throws {
        let (header, lmParams, lm) = Self.languageModel()
        let config = EncoderTransfer.classifierConfig(of: header, dropMult: 0.5)
        #expect(config.hiddenSize == 5 && config.inputP == 0.2 && config.weightP == 0.25)
        let classifier = ClassifierParameters(config: config, classCount: 2)
        let (params, copied) = try EncoderTransfer.initialParameters(for: classifier, seed: 9, checkpoint: header)
        #expect(copied == ["encoder.weight"] + (0 ..< 2).flatMap { l in
            ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map { "rnns.\(l).\($0)" } })
        let fresh = FloatBuffer(count: classifier.layout.count), statistics = FloatBuffer(count: classifier.statisticsCount)
        classifier.initialize(fresh.pointer, statistics: statistics.pointer, seed: 9)
        for spec in classifier.layout.specs {
            let expected = copied.contains(spec.name) ? Array(lmParams[lm.layout[spec.name].range]) : Array(fresh.array[spec.range])
            #expect(Array(params[spec.range]) == expected, "\(spec.name)")
        }
        #expect(params.count == classifier.layout.count)
    }

    @Test func mismatchedOrIncompleteCheckpointsAreRefused() throws {
        let (header, _, _) = Self.languageModel(AWDLSTMConfig(vocabSize: 7, embeddingSize: 4, hiddenSize: 6, layerCount: 2))
        let classifier = ClassifierParameters(config: .classifier(vocabSize: 7, embeddingSize: 4, hiddenSize: 5, layerCount: 2))
        let manifest = "lm/checkpoints/step-000003/manifest.json"
        #expect { try EncoderTransfer.initialParameters(for: classifier, seed: 1, checkpoint: header) }
            throws: { "\($0)".contains(manifest) && "\($0)".contains("rnns.0.weight_ih") && "\($0)".contains("[24, 4]") }
        let missing = Self.languageModel(dropping: "rnns.1.bias_hh").0
        #expect { try EncoderTransfer.initialParameters(for: classifier, seed: 1, checkpoint: missing) }
            throws: { "\($0)".contains(manifest) && "\($0)".contains("has no tensor 'rnns.1.bias_hh'") }
        let short = Self.languageModel(keep: 50).0
        #expect { try EncoderTransfer.initialParameters(for: classifier, seed: 1, checkpoint: short) }
            throws: { "\($0)".contains(manifest) && "\($0)".contains("runs past the end") }
    }
}
