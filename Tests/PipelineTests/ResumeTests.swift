import Checkpoint
import Foundation
import Model
import Testing
@testable import Pipeline

/// A run interrupted at any step and resumed from its checkpoint ends exactly as the run that
/// was never interrupted: same weights, AdamW moments, recurrent state and BatchNorm statistics
/// (bitwise), the same metrics rows, step for step.
///
/// Bitwise equality is asserted where every operation's order is fixed: the same worker
/// layout, or deterministic mode (`deterministicShards` G, any W <= G). Across worker counts
/// without deterministic mode the gradients are summed in another order, so there the test
/// uses a tolerance (see `anotherWorkerCountContinuesWithinRounding`).
@Suite(.serialized) struct ResumeTests {
    typealias S = ResumeSupport

    // MARK: Language model (6 windows per epoch, 3 epochs, validation every 4 steps)

    /// Steps 2 and 9: mid-epoch (recurrent state carried); 4 and 8: just after a validation
    /// (state reset); 6 and 12: an epoch boundary; 17: one step before the end. One reference
    /// run serves every case.
    @Test func languageModelResumesBitwise() throws {
        let reference = S.temporaryRun("lm-ref")
        defer { try? FileManager.default.removeItem(atPath: reference) }
        try S.trainLanguageModel(run: reference, workers: 2)
        for step in [2, 4, 6, 8, 9, 12, 17] {
            let run = S.temporaryRun("lm")
            defer { try? FileManager.default.removeItem(atPath: run) }
            try S.interruptAndResume(run: run, at: step, kind: .languageModel,
                                     train: { try S.trainLanguageModel(run: run, workers: 2, resume: $0, stop: $1) },
                                     resumeWith: { try S.trainLanguageModel(run: run, workers: 2, resume: $0) })
            try S.expectBitwiseEqualRuns(reference, run, label: "stopped at step \(step): ")
            let rows = try S.jsonlColumns(run + "/metrics.jsonl", ["step"]).map { Int($0[0])! }
            #expect(rows == Array(1 ... S.lmStepsPerEpoch * S.lmEpochs), "stopped at step \(step): each step logged once, in order")
        }
    }

    /// A copy of a finished run resumed from an older checkpoint: the logs drop the rows
    /// written after it, newer checkpoints are set aside, and the run ends as before.
    @Test func resumingAnOlderCheckpointTruncatesTheLogsAndSetsNewerCheckpointsAside() throws {
        let reference = S.temporaryRun("lm-ref"), copy = S.temporaryRun("lm-copy")
        defer { [reference, copy].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        try S.trainLanguageModel(run: reference, workers: 2, checkpoints: CheckpointPolicy(keep: nil, everySteps: 1, everyMinutes: nil))
        try FileManager.default.copyItem(atPath: reference, toPath: copy)
        let older = try ResumePoint.open(copy + "/checkpoints/step-000007", expecting: .languageModel)
        #expect(older.step == 7 && older.run == URL(fileURLWithPath: copy).standardizedFileURL.path)
        try S.trainLanguageModel(run: copy, workers: 2, resume: older)
        try S.expectBitwiseEqualRuns(reference, copy)
        let names = try FileManager.default.contentsOfDirectory(atPath: copy + "/checkpoints")
        #expect(names.filter { $0.hasPrefix("superseded-step-") }.count == 11, "steps 8...18 of the earlier course")
        #expect(try String(contentsOfFile: copy + "/checkpoints/latest", encoding: .utf8) == "step-000018\n")
    }

    /// Deterministic mode: 1 -> 2 and 2 -> 1 workers, bitwise.
    @Test(arguments: [(1, 2), (2, 1)])
    func languageModelResumesOnAnotherWorkerCountInDeterministicMode(from: Int, to: Int) throws {
        let reference = S.temporaryRun("lm-ref"), run = S.temporaryRun("lm")
        defer { [reference, run].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        try S.trainLanguageModel(run: reference, workers: 2, deterministicShards: 2)
        try S.interruptAndResume(run: run, at: 9, kind: .languageModel,
                                 train: { try S.trainLanguageModel(run: run, workers: from, deterministicShards: 2, resume: $0, stop: $1) },
                                 resumeWith: { try S.trainLanguageModel(run: run, workers: to, deterministicShards: 2, resume: $0) })
        try S.expectBitwiseEqualRuns(reference, run)
        let manifest = try CheckpointDirectory.resolve(run).checkpoint.manifest
        #expect(manifest.layout.shardCount == to && manifest.layout.workers == to)
    }

    /// Without deterministic mode another worker count sums the gradients in another order:
    /// the continuation matches the uninterrupted run (on the first worker count) within
    /// rounding (tolerances in `ResumeSupport.expectWithinRounding`).
    @Test(arguments: [(1, 2), (2, 1)])
    func languageModelContinuesWithinRoundingOnAnotherWorkerCount(from: Int, to: Int) throws {
        let reference = S.temporaryRun("lm-ref"), run = S.temporaryRun("lm")
        defer { [reference, run].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        try S.trainLanguageModel(run: reference, workers: from)
        try S.interruptAndResume(run: run, at: 9, kind: .languageModel,
                                 train: { try S.trainLanguageModel(run: run, workers: from, resume: $0, stop: $1) },
                                 resumeWith: { try S.trainLanguageModel(run: run, workers: to, resume: $0) })
        try S.expectWithinRounding(reference, run, steps: 18, resumedAfter: 9)
    }

    // MARK: Classifier (4 stages of 1, 1, 1, 2 epochs of 10 steps)

    /// Step 4: mid-epoch of stage 1; 10: end of stage 1 (epoch and stage boundary); 23: mid-
    /// stage 3; 30: stage 4 about to begin; 37: mid-epoch of stage 4; 40: between the epochs of
    /// stage 4; 49: one step before the end. One reference run serves every case.
    @Test func classifierResumesBitwise() throws {
        let reference = S.temporaryRun("clas-ref")
        defer { try? FileManager.default.removeItem(atPath: reference) }
        try S.trainClassifier(run: reference, workers: 2)
        for step in [4, 10, 23, 30, 37, 40, 49] {
            let run = S.temporaryRun("clas")
            defer { try? FileManager.default.removeItem(atPath: run) }
            try S.interruptAndResume(run: run, at: step, kind: .classifier,
                                     train: { try S.trainClassifier(run: run, workers: 2, resume: $0, stop: $1) },
                                     resumeWith: { try S.trainClassifier(run: run, workers: 2, resume: $0) })
            try S.expectBitwiseEqualRuns(reference, run, label: "stopped at step \(step): ")
            for file in ["test.json", "predictions.csv"] {
                #expect(try String(contentsOfFile: "\(reference)/\(file)", encoding: .utf8)
                        == String(contentsOfFile: "\(run)/\(file)", encoding: .utf8), "stopped at step \(step): \(file) differs")
            }
        }
    }

    @Test func classifierWritesACheckpointAtTheEndOfEveryEpochAndStage() throws {
        let run = S.temporaryRun("clas")
        defer { try? FileManager.default.removeItem(atPath: run) }
        try S.trainClassifier(run: run, workers: 2, checkpoints: CheckpointPolicy(keep: nil, everySteps: nil, everyMinutes: nil))
        let steps = CheckpointDirectory.checkpointSteps(in: run + "/checkpoints").sorted()
        #expect(steps == [10, 20, 30, 40, 50])
        let manifest = try Checkpoint.open(run + "/checkpoints/step-000030").manifest
        #expect(manifest.stage == 2 && manifest.epoch == 3 && manifest.optimizer != nil)
    }

    /// Deterministic mode: 1 -> 2 and 2 -> 1 workers, bitwise, mid-stage.
    @Test(arguments: [(1, 2), (2, 1)])
    func classifierResumesOnAnotherWorkerCountInDeterministicMode(from: Int, to: Int) throws {
        let reference = S.temporaryRun("clas-ref"), run = S.temporaryRun("clas")
        defer { [reference, run].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        try S.trainClassifier(run: reference, workers: 1, deterministicShards: 2)
        try S.interruptAndResume(run: run, at: 23, kind: .classifier,
                                 train: { try S.trainClassifier(run: run, workers: from, deterministicShards: 2, resume: $0, stop: $1) },
                                 resumeWith: { try S.trainClassifier(run: run, workers: to, deterministicShards: 2, resume: $0) })
        try S.expectBitwiseEqualRuns(reference, run)
    }

    /// Without deterministic mode: within rounding (see `ResumeSupport.expectWithinRounding`).
    @Test(arguments: [(1, 2), (2, 1)])
    func classifierContinuesWithinRoundingOnAnotherWorkerCount(from: Int, to: Int) throws {
        let reference = S.temporaryRun("clas-ref"), run = S.temporaryRun("clas")
        defer { [reference, run].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        try S.trainClassifier(run: reference, workers: from)
        try S.interruptAndResume(run: run, at: 23, kind: .classifier,
                                 train: { try S.trainClassifier(run: run, workers: from, resume: $0, stop: $1) },
                                 resumeWith: { try S.trainClassifier(run: run, workers: to, resume: $0) })
        try S.expectWithinRounding(reference, run, steps: 50, resumedAfter: 23)
    }

    // MARK: What a resume refuses

    @Test func resumeRefusesOtherDataAndAWeightsOnlyCheckpoint() throws {
        let run = S.temporaryRun("lm")
        defer { try? FileManager.default.removeItem(atPath: run) }
        do {
            try S.trainLanguageModel(run: run, workers: 2, stop: StopRequest(afterStep: 3))
        } catch is RunInterrupted {}
        let point = try ResumePoint.open(run, expecting: .languageModel)
        var other = S.lmCorpus
        other.train[0][0] = other.train[0][0] == 2 ? 3 : 2
        do {
            try S.trainLanguageModel(run: run, workers: 1, corpus: other, resume: point)
            Issue.record("resumed on other data")
        } catch let error as CheckpointError {
            #expect(error.field == "dataCursor.train" && error.message.contains("training corpus differs"), "\(error)")
        }
        #expect(throws: CheckpointError.self) { try ResumePoint.open(run, expecting: .classifier) }

        // A weights-only checkpoint (as `export`-style tools write) starts runs but cannot resume one.
        let weightsOnly = S.temporaryRun("weights")
        defer { try? FileManager.default.removeItem(atPath: weightsOnly) }
        try CheckpointTestSupport.writeLanguageModel(run: weightsOnly, config: S.lmConfig,
                                                     params: Array(repeating: 0.5, count: LanguageModelParameters(config: S.lmConfig).layout.count),
                                                     vocabulary: S.lmVocabulary, step: 3)
        do {
            _ = try ResumePoint.open(weightsOnly, expecting: .languageModel)
            Issue.record("resumed from a weights-only checkpoint")
        } catch let error as CheckpointError {
            #expect(error.message.contains("holds weights only"), "\(error)")
        }
    }

    @Test func theStateRecordRoundTripsExactly() throws {
        let state = RunState(step: 12, stage: 2, stageStart: 10, totalSteps: 50, epoch: 3, epochInStage: 0, nextBatch: 2,
                             seed: .max, stepCounts: [0, 2, 12], data: DataFingerprint(items: [[1, 2], [3]], labels: [0, 1]),
                             logRows: ["metrics": 12, "valid": 2], smoothing: ["loss": 0.1 + 0.2, "accuracy": .nan],
                             examples: 192)
        let f = try state.manifestFields()
        let manifest = CheckpointManifest(kind: "classifier", model: .null, config: .null,
                                          vocabulary: .init(tokens: ["xxpad"], k: 1, stride: 1), stage: 2, epoch: 3, step: 12,
                                          schedule: f.schedule, dataCursor: f.dataCursor, randomKeys: f.randomKeys,
                                          optimizer: f.optimizer, metrics: f.metrics,
                                          layout: .init(workers: 1, binding: "none", shardCount: 1), parameters: .init(count: 0, tensors: []))
        #expect(try RunState(manifest: manifest, file: "m.json") == state)
        var bad = manifest
        bad.step = 9
        #expect(throws: CheckpointError.self) { try RunState(manifest: bad, file: "m.json") }
    }
}

/// The stop request the signal handlers set: the first request wins (its signal is kept); a
/// second one is refused, which is how the handler knows to exit at once.
@Suite struct StopRequestTests {
    @Test func theFirstRequestWinsAndASecondIsRefused() {
        let stop = StopRequest()
        #expect(stop.signal == nil && stop.signal(stepsDone: 1_000) == nil)
        #expect(stop.request(signal: SIGTERM))
        #expect(!stop.request(signal: SIGINT))
        #expect(stop.signal == SIGTERM && stop.signal(stepsDone: 0) == SIGTERM)
        let atStep = StopRequest(afterStep: 5)
        #expect(atStep.signal(stepsDone: 4) == nil && atStep.signal(stepsDone: 5) == SIGTERM)
    }

    @Test func theInterruptionSaysHowToResume() {
        let stopped = RunInterrupted(signal: SIGTERM, step: 12, checkpoint: "runs/my lm/checkpoints/step-000012",
                                     run: "runs/my lm")
        #expect(stopped.exitStatus == 143)
        #expect(stopped.message(executable: ".build/release/ulmfit", command: "train-lm")
                == "stopped by SIGTERM after step 12; checkpoint runs/my lm/checkpoints/step-000012\n"
                + "resume with: .build/release/ulmfit train-lm --resume 'runs/my lm'")
    }
}
