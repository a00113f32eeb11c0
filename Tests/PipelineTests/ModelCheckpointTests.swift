import Checkpoint
import Foundation
import GenomicData
import Kernels
import Model
@testable import Pipeline
import Testing

/// Models saved by the runs load back exactly from a run folder or a checkpoint folder, with
/// any worker count; the wrong kind, another shape and damage are named errors.
@Suite(.serialized) struct ModelCheckpointTests {
    let config = AWDLSTMConfig(vocabSize: 6, embeddingSize: 4, hiddenSize: 5, layerCount: 2)
    let vocabulary = try! Vocabulary(kmers: ["A", "C", "G", "T"], k: 1, stride: 1)

    func params() -> [Float] {
        let parameters = LanguageModelParameters(config: config)
        let params = FloatBuffer(count: parameters.layout.count)
        parameters.initialize(params.pointer, seed: 3)
        return params.array
    }

    @Test func roundTripIsExactFromTheRunOrTheCheckpointFolder() throws {
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        let params = params()
        let folder = try CheckpointTestSupport.writeLanguageModel(run: run, config: config, params: params,
                                                                  vocabulary: vocabulary, step: 7, workers: 2)
        #expect(folder == run + "/checkpoints/step-000007")
        for path in [run, folder] {
            let loaded = try ModelCheckpoint.load(from: path, expecting: .languageModel)
            #expect(loaded.params == params && loaded.step == 7 && loaded.config == config && loaded.kind == .languageModel)
            #expect(try loaded.vocabulary() == vocabulary)
            #expect(loaded.resolution == "using \(folder)")
            try loaded.validate(against: LanguageModelParameters(config: config).layout)
        }
        // Two shards, each the slice its worker owns.
        let manifest = try Checkpoint.open(folder).manifest
        #expect(manifest.shards.count == 2 && manifest.layout.workers == 2)
    }

    @Test func theWrongKindSaysWhatIsNeeded() throws {
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        try CheckpointTestSupport.writeLanguageModel(run: run, config: config, params: params(), vocabulary: vocabulary, step: 1)
        #expect { try ClassifierCheckpoint.load(from: run) } throws: { error in
            let e = error as! CheckpointError
            return e.field == "kind" && e.file.hasSuffix("manifest.json") && "\(e)".contains("is a language-model checkpoint")
                && "\(e)".contains("evaluate --model") && "\(e)".contains("ulmfit train-classifier")
        }
        let classifier = ClassifierParameters(config: .classifier(vocabSize: 6, embeddingSize: 4, hiddenSize: 5, layerCount: 2))
        let classifierRun = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: classifierRun) }
        try CheckpointTestSupport.writeClassifier(run: classifierRun, parameters: classifier,
                                                  params: [Float](repeating: 0.5, count: classifier.layout.count),
                                                  statistics: [Float](repeating: 1, count: classifier.statisticsCount),
                                                  vocabulary: vocabulary, step: 2)
        #expect { try ModelCheckpoint.load(from: classifierRun, expecting: .languageModel, role: "--init-from") } throws: {
            "\($0)".contains("is a classifier checkpoint, but --init-from needs a language-model checkpoint (written by `ulmfit train-lm`)")
        }
    }

    @Test func aRunWithADamagedNewestCheckpointFallsBackAndSaysWhy() throws {
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        let old = params(), new = old.map { $0 + 1 }
        try CheckpointTestSupport.writeLanguageModel(run: run, config: config, params: old, vocabulary: vocabulary, step: 5)
        let newest = try CheckpointTestSupport.writeLanguageModel(run: run, config: config, params: new, vocabulary: vocabulary, step: 9)
        #expect(try ModelCheckpoint.load(from: run).params == new)
        let shard = newest + "/" + CheckpointWriter.shardFileName(1, of: 2)
        var data = try Data(contentsOf: URL(fileURLWithPath: shard))
        data[data.count - 1] ^= 1
        try data.write(to: URL(fileURLWithPath: shard))
        let loaded = try ModelCheckpoint.load(from: run)
        #expect(loaded.step == 5 && loaded.params == old)
        #expect(loaded.resolution.contains("skipped step-000009") && loaded.resolution.contains("checksum mismatch"))
        // Named directly, the damaged checkpoint is an error (no silent fallback).
        #expect { try ModelCheckpoint.load(from: newest) } throws: {
            "\($0)".contains(CheckpointWriter.shardFileName(1, of: 2)) && "\($0)".contains("checksum mismatch")
        }
    }

    @Test func aCheckpointOfAnotherShapeIsRejected() throws {
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        try CheckpointTestSupport.writeLanguageModel(run: run, config: config, params: params(), vocabulary: vocabulary, step: 1)
        let loaded = try ModelCheckpoint.load(from: run)
        let other = LanguageModelParameters(config: AWDLSTMConfig(vocabSize: 6, embeddingSize: 4, hiddenSize: 7, layerCount: 2))
        #expect { try loaded.validate(against: other.layout) } throws: { error in
            "\(error)".contains("rnns.0.weight_ih") && "\(error)".contains("manifest.json")
        }
    }
}
