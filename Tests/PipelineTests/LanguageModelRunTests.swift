import Foundation
import Testing
import GenomicData
import Model
import Parallel
@testable import Pipeline
import Training

/// End-to-end: a small language model trained by two workers on a slice of the human genome
/// chunk lowers its validation loss, and writes its metrics, plot and checkpoint.
@Suite(.serialized) struct LanguageModelRunTests {
    static let genome = SharedData.path("genomes/human_chr22_20-21M.fa.gz")

    @Test(.enabled(if: SharedData.runnable("genomes/human_chr22_20-21M.fa.gz"), "needs ../shared/data/genomes"))
    func twoWorkersLowerTheValidationLossOnRealDNA() throws {
        let tokenizer = try KmerTokenizer(k: 3, stride: 1)
        var counter = try KmerCounter(tokenizer: tokenizer)
        _ = try FastaReader(path: Self.genome, policy: .splitAtNonACGT(minLength: 100)).forEachRecord { counter.add($0.sequence) }
        let vocabulary = try counter.vocabulary()
        let corpus = try LanguageModelCorpus.fromFasta(paths: [Self.genome], encoder: KmerEncoder(vocabulary: vocabulary),
                                                       validFraction: 0.2, seed: 1, chunkLength: 2_000, maxBases: 60_000)
        let config = AWDLSTMConfig(vocabSize: vocabulary.count, embeddingSize: 24, hiddenSize: 48, layerCount: 2)
        var trainer = LanguageModelTrainerOptions()
        trainer.batchSize = 16
        trainer.bptt = 20
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        var options = LanguageModelRunOptions(outDirectory: out)
        options.maxSteps = 40
        options.learningRate = 2e-2
        let topology = try Topology.machine()
        let pool = try WorkerPool(layout: WorkerLayout(spec: LayoutSpec(workers: 2, oversubscribe: true), topology: topology),
                                  topology: topology, bind: false)
        let summary = try runLanguageModel(corpus: corpus, vocabulary: vocabulary, config: config,
                                           trainerOptions: trainer, options: options, pool: pool, log: { _ in })
        let first = try #require(summary.validation.first), last = try #require(summary.validation.last)
        #expect(first.step == 0 && last.step == 40)
        print("validation loss \(first.loss) -> \(last.loss)")
        #expect(last.loss < first.loss - 0.1, "validation loss \(first.loss) -> \(last.loss)")
        for file in ["metrics.jsonl", "metrics.csv", "valid.jsonl", "loss.svg", "checkpoints/latest",
                     "checkpoints/step-000040/manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "missing \(file)")
        }
        let lines = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 40)
        let checkpoint = try ModelCheckpoint.load(from: out, expecting: .languageModel)
        #expect(checkpoint.step == 40 && checkpoint.config == config && checkpoint.params.count == checkpoint.parameterCount)
    }
}
