import Checkpoint
import Foundation
import Testing
import GenomicData
import Kernels
import Model
@testable import Pipeline

/// The export's names and layouts are fastai 2's; folding the head biases changes nothing a
/// model computes in evaluation. (benchmarks/fastai_export_check.py loads the files into fastai
/// itself; CI has no PyTorch, so these tests check the mapping on our side.)
@Suite(.serialized) struct FastaiExportTests {
    let vocabulary = try! Vocabulary(kmers: ["A", "C", "G", "T"], k: 1, stride: 1)

    @Test func languageModelNamesAndValuesAreFastais() throws {
        let config = AWDLSTMConfig(vocabSize: 6, embeddingSize: 4, hiddenSize: 5, layerCount: 2)
        let parameters = LanguageModelParameters(config: config)
        let params = (0 ..< parameters.layout.count).map { Float($0) * 0.01 }
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        try CheckpointTestSupport.writeLanguageModel(run: run, config: config, params: params, vocabulary: vocabulary, step: 3)
        let model = try ModelCheckpoint.load(from: run)
        let out = run + "/lm.safetensors"
        try FastaiExport.write(model, to: out)
        let (tensors, metadata) = try SafeTensors.read(out)
        var expected = ["0.encoder.weight", "0.encoder_dp.emb.weight"]
        for l in 0 ..< 2 {
            for name in ["weight_hh_l0_raw", "module.weight_ih_l0", "module.bias_ih_l0", "module.bias_hh_l0"] {
                expected.append("0.rnns.\(l).\(name)")
            }
        }
        expected += ["1.decoder.weight", "1.decoder.bias"]
        #expect(tensors.map(\.entry.name) == expected)
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.entry.name, $0) })
        for (theirs, ours) in [("0.encoder.weight", "encoder.weight"), ("0.encoder_dp.emb.weight", "encoder.weight"),
                               ("1.decoder.weight", "encoder.weight"), ("0.rnns.1.weight_hh_l0_raw", "rnns.1.weight_hh"),
                               ("0.rnns.0.module.weight_ih_l0", "rnns.0.weight_ih"), ("1.decoder.bias", "decoder.bias")] {
            let spec = parameters.layout[ours]
            #expect(byName[theirs]?.entry.shape == spec.shape, "\(theirs)")
            #expect(byName[theirs]?.values == Array(params[spec.range]), "\(theirs)")
        }
        #expect(metadata["kind"] == "language-model" && metadata["pad_idx"] == "0" && metadata["step"] == "3")
        let fastaiConfig = try JSONSerialization.jsonObject(with: Data(metadata["fastai_config"]!.utf8)) as? [String: Any]
        #expect(fastaiConfig?["emb_sz"] as? Int == 4 && fastaiConfig?["n_hid"] as? Int == 5 && fastaiConfig?["n_layers"] as? Int == 2)
        let vocab = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/lm.vocab.json"))) as? [String]
        #expect(vocab == vocabulary.tokens && vocab?.first == "xxpad")
    }

    /// A classifier whose 3E = 60 features feed a 50-unit hidden layer, as in every ULMFiT head.
    func classifier(run: String, classes: Int = 3) throws -> (ModelCheckpoint, ClassifierParameters) {
        let config = AWDLSTMConfig.classifier(vocabSize: 6, embeddingSize: 20, hiddenSize: 8, layerCount: 2).scaled(dropMult: 0.5)
        let parameters = ClassifierParameters(config: config, classCount: classes)
        let params = FloatBuffer(count: parameters.layout.count), statistics = FloatBuffer(count: parameters.statisticsCount)
        parameters.initialize(params.pointer, statistics: statistics.pointer, seed: 11)
        var stats = statistics.array
        for i in stats.indices { stats[i] += Float(i % 7) * 0.1 }   // non-trivial running statistics
        try CheckpointTestSupport.writeClassifier(run: run, parameters: parameters, params: params.array, statistics: stats,
                                                  vocabulary: vocabulary, step: 9)
        return (try ModelCheckpoint.load(from: run), parameters)
    }

    @Test func classifierHeadIsFastaisLinBnDrop() throws {
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        let (model, parameters) = try classifier(run: run)
        let folded = try FastaiExport.stateDict(of: model, headBias: .fold)
        let names = folded.map(\.name)
        #expect(names.first == "0.module.encoder.weight" && names.contains("0.module.rnns.1.weight_hh_l0_raw"))
        let head = names.filter { $0.hasPrefix("1.") }
        var expectedHead: [String] = []
        for l in 0 ..< 2 {
            for name in ["0.weight", "0.bias", "0.running_mean", "0.running_var", "0.num_batches_tracked", "2.weight"] {
                expectedHead.append("1.layers.\(l).\(name)")
            }
        }
        #expect(head == expectedHead)
        let byName = Dictionary(uniqueKeysWithValues: folded.map { ($0.name, $0) })
        let varianceStart = parameters.bn1.runningVarOffset
        let variance = Array(model.statistics[varianceStart ..< varianceStart + 50])
        #expect(byName["1.layers.1.0.running_var"]?.values == variance)
        #expect(byName["1.layers.0.0.num_batches_tracked"]?.isInteger == true && byName["1.layers.0.0.num_batches_tracked"]?.values == [9])
        #expect(byName["1.layers.1.2.weight"]?.shape == [3, 50])
        let kept = try FastaiExport.stateDict(of: model, headBias: .keep)
        #expect(kept.map(\.name).filter { $0.hasSuffix("2.bias") } == ["1.layers.0.2.bias", "1.layers.1.2.bias"])
    }

    /// Evaluation-mode head output (BatchNorm with running statistics, then Linear) in Double.
    func headLayer(_ x: [Double], gamma: [Float], beta: [Float], mean: [Float], variance: [Float],
                   weight: [Float], bias: [Float]?) -> [Double] {
        let I = x.count, O = weight.count / I
        var normalized = [Double](repeating: 0, count: I)
        for i in 0 ..< I {
            let scale = Double(gamma[i]) / (Double(variance[i]) + 1e-5).squareRoot()
            normalized[i] = scale * (x[i] - Double(mean[i])) + Double(beta[i])
        }
        var out = [Double](repeating: 0, count: O)
        for o in 0 ..< O {
            var sum = bias.map { Double($0[o]) } ?? 0
            for i in 0 ..< I { sum += Double(weight[o * I + i]) * normalized[i] }
            out[o] = sum
        }
        return out
    }

    @Test func foldedBiasesGiveTheSameOutputsInEvaluation() throws {
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        let (model, _) = try classifier(run: run)
        let folded = Dictionary(uniqueKeysWithValues: try FastaiExport.stateDict(of: model, headBias: .fold).map { ($0.name, $0.values) })
        let kept = Dictionary(uniqueKeysWithValues: try FastaiExport.stateDict(of: model, headBias: .keep).map { ($0.name, $0.values) })
        for (layer, width) in [(0, 60), (1, 50)] {
            let p = "1.layers.\(layer)."
            let x = (0 ..< width).map { Double(($0 * 37) % 11) * 0.3 - 1.2 }
            let ours = headLayer(x, gamma: kept[p + "0.weight"]!, beta: kept[p + "0.bias"]!, mean: kept[p + "0.running_mean"]!,
                                 variance: kept[p + "0.running_var"]!, weight: kept[p + "2.weight"]!, bias: kept[p + "2.bias"]!)
            let theirs = headLayer(x, gamma: folded[p + "0.weight"]!, beta: folded[p + "0.bias"]!, mean: folded[p + "0.running_mean"]!,
                                   variance: folded[p + "0.running_var"]!, weight: folded[p + "2.weight"]!, bias: nil)
            // The fold is exact in real arithmetic; what remains is the float32 rounding of the
            // folded bias (~6e-8 relative, times the few units the weights sum), far below 1e-5.
            for (a, b) in zip(ours, theirs) {
                let tolerance: Double = 1e-5 * max(1, abs(a))
                #expect(abs(a - b) <= tolerance, "layer \(layer): \(a) vs \(b)")
            }
        }
    }

    @Test func aHeadThatCannotBeFoldedSaysToKeepTheBias() throws {
        // 3E = 12 features into a 50-unit layer: W W^T is singular.
        let config = AWDLSTMConfig.classifier(vocabSize: 6, embeddingSize: 4, hiddenSize: 5, layerCount: 2)
        let parameters = ClassifierParameters(config: config, classCount: 2)
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        try CheckpointTestSupport.writeClassifier(run: run, parameters: parameters,
                                                  params: [Float](repeating: 0.1, count: parameters.layout.count),
                                                  statistics: [Float](repeating: 1, count: parameters.statisticsCount),
                                                  vocabulary: vocabulary, step: 1)
        let model = try ModelCheckpoint.load(from: run)
        #expect { try FastaiExport.stateDict(of: model, headBias: .fold) } throws: {
            "\($0)".contains("1.layers.0.0.bias") && "\($0)".contains("--head-bias keep")
        }
        #expect(try FastaiExport.stateDict(of: model, headBias: .keep).count == 2 + 8 + 14)
    }

    @Test func languageModelSampleIsAProbabilityDistribution() throws {
        let config = AWDLSTMConfig(vocabSize: 6, embeddingSize: 4, hiddenSize: 5, layerCount: 2)
        let parameters = LanguageModelParameters(config: config)
        let params = FloatBuffer(count: parameters.layout.count)
        parameters.initialize(params.pointer, seed: 5)
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        try CheckpointTestSupport.writeLanguageModel(run: run, config: config, params: params.array, vocabulary: vocabulary, step: 1)
        let sample = try ExportSample.make(ModelCheckpoint.load(from: run), count: 2, length: 5, pool: CheckpointTestSupport.pool(workers: 1))
        let sequences = try #require(sample["sequences"] as? [[Int]])
        let logProbs = try #require(sample["log_probs"] as? [[[Double]]])
        #expect(sequences.map(\.count) == [5, 12] && sequences.allSatisfy { $0.allSatisfy { $0 >= 1 && $0 < 6 } })
        for (s, rows) in zip(sequences, logProbs) {
            #expect(rows.count == s.count)
            for row in rows { #expect(abs(row.reduce(0) { $0 + exp($1) } - 1) < 1e-9 && row.count == 6) }
        }
    }
}
