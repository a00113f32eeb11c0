import Foundation
import Kernels
import Model
@testable import Pipeline
import Testing

/// The encoder moves by name from a language model into a fresh classifier; the head keeps its
/// initialization; a checkpoint of another shape is refused, naming the file and the tensor.
@Suite struct EncoderTransferTests {
    static let lmConfig = AWDLSTMConfig(vocabSize: 7, embeddingSize: 4, hiddenSize: 5, layerCount: 2)

    /// A language-model checkpoint header and distinctive parameters (value = 1000 + index).
    static func languageModel(_ config: AWDLSTMConfig = lmConfig) -> (ModelCheckpoint, [Float], LanguageModelParameters) {
        let parameters = LanguageModelParameters(config: config)
        let params = (0 ..< parameters.layout.count).map { Float(1000 + $0) }
        let header = ModelCheckpoint(kind: "language-model", config: config, vocabularyTokens: [], k: 1, stride: 1,
                                     layout: parameters.layout, step: 3)
        return (header, params, parameters)
    }

    @Test func copiesExactlyTheEncoderTensors() throws {
        let (header, lmParams, lm) = Self.languageModel()
        let config = EncoderTransfer.classifierConfig(of: header, dropMult: 0.5)
        #expect(config.hiddenSize == 5 && config.inputP == 0.2 && config.weightP == 0.25)
        let classifier = ClassifierParameters(config: config, classCount: 2)
        let (params, copied) = try EncoderTransfer.initialParameters(for: classifier, seed: 9, checkpoint: header,
                                                                      params: lmParams, file: "lm/model.json")
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
        let (header, params, _) = Self.languageModel(AWDLSTMConfig(vocabSize: 7, embeddingSize: 4, hiddenSize: 6, layerCount: 2))
        let classifier = ClassifierParameters(config: .classifier(vocabSize: 7, embeddingSize: 4, hiddenSize: 5, layerCount: 2))
        #expect { try EncoderTransfer.initialParameters(for: classifier, seed: 1, checkpoint: header, params: params, file: "lm/model.json") }
            throws: { "\($0)".contains("lm/model.json") && "\($0)".contains("rnns.0.weight_ih") && "\($0)".contains("[24, 4]") }
        var missing = Self.languageModel().0
        missing.tensors.removeAll { $0.name == "rnns.1.bias_hh" }
        #expect { try EncoderTransfer.initialParameters(for: classifier, seed: 1, checkpoint: missing, params: params, file: "x.json") }
            throws: { "\($0)".contains("x.json") && "\($0)".contains("has no tensor 'rnns.1.bias_hh'") }
        let (good, goodParams, _) = Self.languageModel()
        #expect { try EncoderTransfer.initialParameters(for: classifier, seed: 1, checkpoint: good,
                                                        params: Array(goodParams.prefix(50)), file: "y.json") }
            throws: { "\($0)".contains("y.json") && "\($0)".contains("runs past the end") }
    }
}
