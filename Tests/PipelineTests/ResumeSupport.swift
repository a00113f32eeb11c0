import Checkpoint
import Foundation
import Testing
import GenomicData
import Model
import Parallel
@testable import Pipeline
import Training

/// Tiny language-model and classifier runs, interrupted and resumed, and the comparisons the
/// resume tests make between two run folders.
enum ResumeSupport {
    static func pool(workers: Int) throws -> WorkerPool {
        let topology = try Topology.machine()
        return try WorkerPool(layout: WorkerLayout(spec: LayoutSpec(workers: workers, oversubscribe: true), topology: topology),
                              topology: topology, bind: false)
    }

    static func temporaryRun(_ tag: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(tag)-\(UUID().uuidString)").path
    }

    /// A 64-bit LCG (Knuth's MMIX constants): test data that is the same on every host.
    struct LCG {
        var state: UInt64
        mutating func next(_ n: UInt64) -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (state >> 33) % n
        }
    }

    // MARK: Language model

    static let lmVocabulary = try! Vocabulary(kmers: ["A", "C", "G", "T"], k: 1, stride: 1)
    static let lmConfig = AWDLSTMConfig(vocabSize: 6, embeddingSize: 8, hiddenSize: 12, layerCount: 2)

    /// 6 documents, 145 train tokens: 4 streams of 36 tokens, 6 windows of 6 per epoch.
    static let lmCorpus: LanguageModelCorpus = {
        var random = LCG(state: 5)
        var corpus = LanguageModelCorpus()
        // Tokens 2...5 (A, C, G, T) with a pattern a model can pick up: runs of one base.
        func document(_ count: Int) -> [Int32] {
            var out: [Int32] = []
            while out.count < count { out += Array(repeating: Int32(2 + random.next(4)), count: 1 + Int(random.next(3))) }
            return Array(out.prefix(count))
        }
        corpus.train = [30, 20, 25, 25, 20, 25].map(document)
        corpus.valid = [40, 30].map(document)
        return corpus
    }()

    static let lmStepsPerEpoch = 6, lmEpochs = 3

    /// Trains the tiny language model into `run` (3 epochs, 18 steps, validation every 4 steps).
    @discardableResult
    static func trainLanguageModel(run: String, workers: Int, corpus: LanguageModelCorpus = lmCorpus,
                                   deterministicShards: Int? = nil,
                                   checkpoints: CheckpointPolicy = CheckpointPolicy(everyMinutes: nil),
                                   resume: ResumePoint? = nil, stop: StopRequest? = nil) throws -> LanguageModelRunSummary {
        var trainer = LanguageModelTrainerOptions()
        trainer.batchSize = 4
        trainer.bptt = 6
        trainer.seed = 3
        trainer.deterministicShards = deterministicShards
        var options = LanguageModelRunOptions(outDirectory: run)
        options.epochs = lmEpochs
        options.learningRate = 1e-2
        options.evalEvery = 4
        options.maxGradNorm = 1
        options.checkpoints = checkpoints
        return try runLanguageModel(corpus: corpus, vocabulary: lmVocabulary, config: lmConfig, trainerOptions: trainer,
                                    options: options, pool: pool(workers: workers), resume: resume, stop: stop,
                                    log: { _ in })
    }

    // MARK: Classifier

    /// 160 train sequences (10 steps per epoch of 16), 32 valid: class 1 is G-rich.
    static let classifierData: EncodedClassificationData = {
        var random = LCG(state: 11)
        func sequence(_ label: Int32) -> [UInt8] {
            (0 ..< 12).map { _ in
                label == 1 && random.next(2) == 0 ? UInt8(ascii: "G") : Array("ACT".utf8)[Int(random.next(3))]
            }
        }
        var d = PreparedDataset()
        for (split, count) in [(DatasetSplit.train, 160), (.valid, 32), (.test, 16)] {
            var part = LabeledSequences()
            for i in 0 ..< count { part.append(sequence(Int32(i % 2)), label: Int32(i % 2)) }
            d.splits[split] = part
        }
        return try! EncodedClassificationData(dataset: d, encoder: KmerEncoder(vocabulary: lmVocabulary))
    }()

    static let classifierConfig = AWDLSTMConfig.classifier(vocabSize: 6, embeddingSize: 8, hiddenSize: 12, layerCount: 2)
        .scaled(dropMult: 0.5)

    /// ULMFiT's four stages (1 + 1 + 1 + 2 epochs of 10 steps: 50 steps), from known weights.
    @discardableResult
    static func trainClassifier(run: String, workers: Int, deterministicShards: Int? = nil,
                                checkpoints: CheckpointPolicy = CheckpointPolicy(everyMinutes: nil),
                                resume: ResumePoint? = nil, stop: StopRequest? = nil) throws -> ClassifierRunSummary {
        var trainer = ClassifierTrainerOptions()
        trainer.batchSize = 16
        trainer.bptt = 8
        trainer.seed = 5
        trainer.deterministicShards = deterministicShards
        var options = ClassifierRunOptions(stages: ClassifierStage.ulmfit(learningRate: 2e-2, epochs: 2), outDirectory: run)
        options.maxGradNorm = 1
        options.checkpoints = checkpoints
        let parameters = ClassifierParameters(config: classifierConfig, classCount: 2)
        let initial = (0 ..< parameters.layout.count).map { Float(($0 * 37) % 101) * 1e-3 - 0.05 }
        return try runClassifier(data: classifierData, vocabulary: lmVocabulary, config: classifierConfig,
                                 trainerOptions: trainer, options: options, pool: pool(workers: workers),
                                 initialParameters: initial, resume: resume, stop: stop, log: { _ in })
    }

    // MARK: Interrupt and resume

    /// Runs `train` with a stop after `step` steps (it must throw `RunInterrupted` there), then
    /// resumes the run from its folder with `resumeWorkers` workers until the end.
    static func interruptAndResume(run: String, at step: Int, kind: ModelCheckpoint.Kind,
                                   train: (_ resume: ResumePoint?, _ stop: StopRequest?) throws -> Void,
                                   resumeWith resumeTrain: (_ resume: ResumePoint) throws -> Void) throws {
        do {
            try train(nil, StopRequest(afterStep: step))
            Issue.record("the run was not interrupted at step \(step)")
        } catch let stopped as RunInterrupted {
            #expect(stopped.step == step && stopped.signal == SIGTERM && stopped.run == run)
            #expect(stopped.checkpoint.hasSuffix(CheckpointDirectory.folderName(step: step)))
        }
        let point = try ResumePoint.open(run, expecting: kind)
        #expect(point.step == step)
        try resumeTrain(point)
    }

    // MARK: Comparisons

    /// The tensors of a run's newest checkpoint, whole (any shard count).
    static func finalTensors(_ run: String) throws -> [String: [Float]] {
        let checkpoint = try CheckpointDirectory.resolve(run).checkpoint
        var out: [String: [Float]] = [:]
        for name in ["params", "exp_avg", "exp_avg_sq"] {
            out[name] = try checkpoint.assemble(name, range: 0 ..< checkpoint.manifest.parameters.count)
        }
        for name in checkpoint.manifest.shards[0].tensors.map(\.name) where name.hasPrefix("recurrent.") {
            out[name] = try checkpoint.concatenated(name).values
        }
        if checkpoint.manifest.kind == "classifier" {
            out["batchnorm.statistics"] = try checkpoint.floats("batchnorm.statistics", shard: 0)
        }
        return out
    }

    /// Columns of the per-step metrics that do not measure time.
    static let deterministicColumns = ["step", "epoch", "stage", "loss", "smooth_loss", "accuracy", "ar", "tar", "lr",
                                       "lr_first", "beta1", "grad_norm"]

    /// The values of `columns` in every row of a CSV log, as text (exactly as written).
    static func csvColumns(_ path: String, _ columns: [String]) throws -> [[String]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let header = lines[0].split(separator: ",").map(String.init)
        let indices = columns.compactMap { header.firstIndex(of: $0) }
        return lines.dropFirst().filter { !$0.isEmpty }.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return indices.map { fields[$0] }
        }
    }

    /// The values of `columns` in every row of a JSONL log, as text (exactly as written).
    static func jsonlColumns(_ path: String, _ columns: [String]) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            columns.compactMap { key -> String? in
                guard let range = line.range(of: "\"\(key)\":") else { return nil }
                return String(line[range.upperBound...].prefix { $0 != "," && $0 != "}" })
            }
        }
    }

    /// Expects run `b`, resumed on another worker count after `resumedAfter` of `steps` steps
    /// (no deterministic mode), to match the uninterrupted run `a` within rounding: the same
    /// losses before the resume, and after it losses within 1e-5 relative and weights within
    /// 1e-3. Why these: W shards sum the gradient in another order, which changes it by float32
    /// rounding (2^-24 ~ 6e-8 relative per addition, a few additions deep); AdamW's update
    /// m^/sqrt(v^) is scale-free, so that relative change carries over to the updates (lr <=
    /// 2e-2) and grows at most a few-fold over these <= 27 steps: measured 5e-8 (losses) and
    /// 1e-5 (weights), 200x and 100x inside the bounds. A continuation that loses state does
    /// not come near them: the optimizer moments halved on load moves losses by >1e-4 relative
    /// and weights by >1e-3 within a few steps.
    static func expectWithinRounding(_ a: String, _ b: String, steps: Int, resumedAfter: Int,
                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let x = try jsonlColumns(a + "/metrics.jsonl", ["loss"]).map { Double($0[0])! }
        let y = try jsonlColumns(b + "/metrics.jsonl", ["loss"]).map { Double($0[0])! }
        #expect(x.count == steps && y.count == steps, sourceLocation: sourceLocation)
        #expect(x.prefix(resumedAfter) == y.prefix(resumedAfter), "the steps before the interruption are the same run",
                sourceLocation: sourceLocation)
        let worstLoss = zip(x, y).map { abs($0 - $1) / abs($0) }.max() ?? .infinity
        #expect(worstLoss <= 1e-5, "losses differ by up to \(worstLoss) relative", sourceLocation: sourceLocation)
        let p = try finalTensors(a)["params"]!, q = try finalTensors(b)["params"]!
        let worstWeight = zip(p, q).map { abs($0 - $1) }.max() ?? .infinity
        #expect(p.count == q.count && worstWeight <= 1e-3, "weights differ by up to \(worstWeight)",
                sourceLocation: sourceLocation)
        #expect(worstWeight > 0, "another summation order, not the same computation", sourceLocation: sourceLocation)
    }

    /// Expects the two runs' final checkpoints to hold bitwise equal tensors and their logs
    /// the same rows (time columns aside).
    static func expectBitwiseEqualRuns(_ a: String, _ b: String, label: String = "",
                                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let x = try finalTensors(a), y = try finalTensors(b)
        #expect(x.keys.sorted() == y.keys.sorted(), sourceLocation: sourceLocation)
        for (name, values) in x {
            let other = y[name] ?? []
            let differing = zip(values, other).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            #expect(values.count == other.count && differing == 0,
                    "\(label)\(name): \(differing) of \(values.count) values differ", sourceLocation: sourceLocation)
        }
        for log in ["metrics", "valid"] {
            let rowsA = try jsonlColumns("\(a)/\(log).jsonl", deterministicColumns)
            let rowsB = try jsonlColumns("\(b)/\(log).jsonl", deterministicColumns)
            #expect(!rowsA.isEmpty && rowsA == rowsB, "\(label)\(log).jsonl differs", sourceLocation: sourceLocation)
            let csvA = try csvColumns("\(a)/\(log).csv", deterministicColumns)
            #expect(csvA == (try csvColumns("\(b)/\(log).csv", deterministicColumns)) && csvA.count == rowsA.count,
                    "\(label)\(log).csv differs", sourceLocation: sourceLocation)
        }
        // The validation log has no time columns: whole files equal.
        #expect(try String(contentsOfFile: "\(a)/valid.jsonl", encoding: .utf8)
                == String(contentsOfFile: "\(b)/valid.jsonl", encoding: .utf8), sourceLocation: sourceLocation)
    }
}
