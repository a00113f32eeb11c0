import Checkpoint
import Foundation
import Testing
import GenomicData
import Model
import Parallel
@testable import Pipeline
import Training

/// End-to-end classifier runs on a synthetic dataset whose class shows in the tokens: class 1
/// sequences are half G, class 0 sequences have none.
@Suite(.serialized) struct ClassifierRunTests {
    static func dataset() -> PreparedDataset {
        var state: UInt64 = 11
        func next() -> UInt64 {   // a 64-bit LCG (Knuth's MMIX constants): plenty for test data
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        func sequence(_ label: Int32) -> [UInt8] {
            (0 ..< 12).map { _ in
                label == 1 && next() % 2 == 0 ? UInt8(ascii: "G") : Array("ACT".utf8)[Int(next() % 3)]
            }
        }
        var d = PreparedDataset()
        for (split, count) in [(DatasetSplit.train, 160), (.valid, 48), (.test, 40)] {
            var part = LabeledSequences()
            for i in 0 ..< count { part.append(sequence(Int32(i % 2)), label: Int32(i % 2)) }
            d.splits[split] = part
        }
        return d
    }

    static func vocabulary() throws -> Vocabulary { try Vocabulary(kmers: ["A", "C", "G", "T"], k: 1, stride: 1) }

    static func pool() throws -> WorkerPool {
        let topology = try Topology.machine()
        return try WorkerPool(layout: WorkerLayout(spec: LayoutSpec(workers: 2, oversubscribe: true), topology: topology),
                              topology: topology, bind: false)
    }

    /// fastai's classifier dropouts; `runClassifier` scales them by `ClassifierRunOptions.dropMult` (0.5).
    static let config = AWDLSTMConfig.classifier(vocabSize: 6, embeddingSize: 8, hiddenSize: 16, layerCount: 2)

    static func options(_ stages: [ClassifierStage], out: String) -> (ClassifierTrainerOptions, ClassifierRunOptions) {
        var trainer = ClassifierTrainerOptions()
        trainer.batchSize = 16
        trainer.bptt = 8   // 12-token sequences: the truncated backward is exercised
        trainer.seed = 5
        return (trainer, ClassifierRunOptions(stages: stages, outDirectory: out))
    }

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("clas-\(UUID().uuidString)").path
    }

    @Test func twoWorkersLearnAnObviousClassAndWriteEverything() throws {
        let vocabulary = try Self.vocabulary()
        let data = try EncodedClassificationData(dataset: Self.dataset(), encoder: KmerEncoder(vocabulary: vocabulary))
        #expect(data.classCount == 2 && data.maxLength == 12)
        let out = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (trainer, options) = Self.options(ClassifierStage.all(learningRate: 2e-2, epochs: 3), out: out)
        let pool = try Self.pool()
        let summary = try runClassifier(data: data, vocabulary: vocabulary, config: Self.config, trainerOptions: trainer,
                                        options: options, pool: pool, log: { _ in })
        #expect(summary.steps == 30)   // 160 / 16 steps per epoch, 3 epochs
        #expect(summary.validation.map(\.epoch) == [1, 2, 3])
        let last = try #require(summary.validation.last).evaluation
        print("validation accuracy \(summary.validation.map { $0.evaluation.metrics.accuracy }), MCC \(last.metrics.mcc)")
        #expect(last.metrics.accuracy > 0.85, "validation accuracy \(last.metrics.accuracy) (chance 0.5)")
        #expect(last.metrics.mcc > 0.7)
        let test = try #require(summary.test)
        #expect(test.metrics.total == 40)

        for file in ["metrics.jsonl", "metrics.csv", "valid.jsonl", "valid.csv", "test.json", "predictions.csv",
                     "loss.svg", "accuracy.svg", "checkpoints/latest", "checkpoints/step-000030/manifest.json",
                     "checkpoints/step-000030/SHA256SUMS", "checkpoints/step-000030/shard-00000-of-00002.safetensors",
                     "checkpoints/step-000030/shard-00001-of-00002.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "missing \(file)")
        }
        let steps = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(steps.count == 30)
        let predictions = try String(contentsOfFile: out + "/predictions.csv", encoding: .utf8).split(separator: "\n")
        #expect(predictions.count == 41 && predictions[0] == "index,label,predicted,p0,p1")
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/test.json"))) as? [String: Any])
        #expect(json["confusion"] as? [[Int]] == test.metrics.confusion)

        // The saved classifier (weights and BatchNorm statistics) gives the same test results.
        let checkpoint = try ClassifierCheckpoint.load(from: out)
        #expect(checkpoint.model.step == 30 && checkpoint.classCount == 2 && checkpoint.model.kind == .classifier)
        #expect(try checkpoint.vocabulary() == vocabulary)
        let again = try checkpoint.evaluate(sequences: data[.test].sequences, labels: data[.test].labels, pool: pool, batchSize: 16)
        #expect(again.metrics == test.metrics)
        #expect(abs(again.loss - test.loss) < 1e-9)
    }

    @Test func theFirstULMFiTStageTrainsOnlyTheHead() throws {
        let vocabulary = try Self.vocabulary()
        let data = try EncodedClassificationData(dataset: Self.dataset(), encoder: KmerEncoder(vocabulary: vocabulary))
        let out = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let stages = ClassifierStage.ulmfit(learningRate: 2e-2, epochs: 1)
        var (trainer, options) = Self.options([stages[0]], out: out)
        options.maxStepsPerStage = 2
        // Start from known non-initial encoder weights, as after an encoder transfer.
        let parameters = ClassifierParameters(config: Self.config, classCount: 2)
        let initial = (0 ..< parameters.layout.count).map { Float(($0 * 37) % 101) * 1e-3 - 0.05 }
        let summary = try runClassifier(data: data, vocabulary: vocabulary, config: Self.config, trainerOptions: trainer,
                                        options: options, pool: Self.pool(), initialParameters: initial, log: { _ in })
        #expect(summary.steps == 2)
        let saved = try ClassifierCheckpoint.load(from: out).params
        for spec in parameters.layout.specs {
            let same = saved[spec.range] == initial[spec.range]
            #expect(same == EncoderTransfer.isEncoderTensor(spec.name), "\(spec.name) \(same ? "unchanged" : "changed")")
        }
    }

    @Test func ulmfitRecipeMatchesTheFastaiNotebook() throws {
        let stages = ClassifierStage.ulmfit(learningRate: 2e-2, epochs: 2)
        #expect(stages.map(\.freezeTo) == [-1, -2, -3, 0] && stages.map(\.epochs) == [1, 1, 1, 2])
        let spread = pow(2.6, 4.0)
        #expect(stages[0].learningRates == .uniform(2e-2))
        #expect(stages[1].learningRates == .slice(lower: 1e-2 / spread, upper: 1e-2))
        #expect(stages[2].learningRates == .slice(lower: 5e-3 / spread, upper: 5e-3))
        #expect(stages[3].learningRates == .slice(lower: 1e-3 / spread, upper: 1e-3))
    }

    @Test func classifierCheckpointsRoundTripAndDamageIsNamed() throws {
        let parameters = ClassifierParameters(config: Self.config, classCount: 3)
        let params = (0 ..< parameters.layout.count).map { Float($0) }
        let statistics = (0 ..< parameters.statisticsCount).map { Float($0) * 0.5 }
        let run = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: run) }
        let folder = try CheckpointTestSupport.writeClassifier(run: run, parameters: parameters, params: params,
                                                               statistics: statistics, vocabulary: Self.vocabulary(), step: 4)
        let loaded = try ClassifierCheckpoint.load(from: run)
        #expect(loaded.params == params && loaded.statistics == statistics && loaded.classCount == 3 && loaded.headHidden == 50)

        // The statistics live in shard 0: damage there is named.
        let shard = folder + "/" + CheckpointWriter.shardFileName(0, of: 2)
        var data = try Data(contentsOf: URL(fileURLWithPath: shard))
        data[data.count - 5] ^= 0x10
        try data.write(to: URL(fileURLWithPath: shard))
        #expect { try ClassifierCheckpoint.load(from: folder) } throws: {
            "\($0)".contains("shard-00000-of-00002.safetensors") && "\($0)".contains("checksum")
        }
    }
}
