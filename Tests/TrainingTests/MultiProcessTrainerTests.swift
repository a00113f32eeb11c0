import GenomicData
import Kernels
import Model
import Parallel
import Testing
@testable import Training

/// Several processes train exactly as one: the minibatch's shards are numbered across the job and
/// keep their dropout keys, so N processes x W workers compute the shards 1 process x N W
/// workers compute. Processes are simulated by threads (`ThreadedProcessGroup`: every rank has its
/// own pool, replicas, weights and optimizer state, and data moves only through the group), so
/// these run without MPI; ClusterTests repeats the comparison with real processes under mpirun.
@Suite(.serialized) struct MultiProcessTrainerTests {
    typealias LM = LanguageModelTrainerTests
    typealias Classifier = ClassifierTrainerTests

    /// What one rank's LM training gives: its weights, the step norms and losses, and a
    /// validation pass, as bit patterns.
    struct LMRun: Equatable {
        var weights: [UInt32]
        var norms: [UInt64]
        var losses: [UInt64]
        var validation: UInt64
    }

    static func trainLM(processes: Int, workers: Int, batchSize: Int = 8, shards: Int?, clip: Double?,
                        steps: Int = 5, seed: @escaping (Int) -> UInt64 = { _ in 17 }) throws -> [LMRun] {
        try ThreadedProcessGroup.run(size: processes) { group in
            let trainer = try LM.trainer(workers: workers, batchSize: batchSize, shards: shards, clip: clip,
                                         seed: seed(group.rank), group: group)
            let batches = try LM.batches(batchSize: batchSize, bptt: 6)
            var run = LMRun(weights: [], norms: [], losses: [], validation: 0)
            for s in 0 ..< steps {
                let r = try trainer.trainStep(batches, window: s % batches.windowCount)
                if let clip { #expect(r.gradNorm > clip, "clipping must be active") }
                run.norms.append(r.gradNorm.bitPattern)
                run.losses.append(r.loss.bitPattern)
            }
            run.validation = trainer.evaluate(batches).loss.bitPattern
            run.weights = trainer.params.array.map(\.bitPattern)
            return run
        }
    }

    /// Deterministic mode: 2 processes x 1 worker, 2 x 2 and 4 x 1 give the bits of 1 process x
    /// 1 worker (itself equal to 1 x W, LanguageModelTrainerTests), weights, gradient norms,
    /// reported losses and validation loss, with clipping active on every step.
    @Test(arguments: [(2, 1), (2, 2), (4, 1)])
    func languageModelDeterministicModeIsIndependentOfProcesses(layout: (processes: Int, workers: Int)) throws {
        let one = try Self.trainLM(processes: 1, workers: 1, shards: 4, clip: 0.05)[0]
        let ranks = try Self.trainLM(processes: layout.processes, workers: layout.workers, shards: 4, clip: 0.05)
        for (rank, run) in ranks.enumerated() {
            #expect(run.norms == one.norms, "rank \(rank): gradient norms")
            #expect(run.losses == one.losses, "rank \(rank): reported losses")
            #expect(run.validation == one.validation, "rank \(rank): validation loss")
            #expect(run.weights == one.weights, "rank \(rank): weights")
        }
        #expect(one.weights != (try Self.trainLM(processes: 1, workers: 1, shards: 4, clip: 0.05, steps: 0)[0].weights),
                "training must change the weights")
    }

    /// Default mode: 2 processes x 1 worker against 1 process x 2 workers. The same two shards
    /// (the same streams, GEMM shapes and dropout keys) are summed once, across processes instead
    /// of in shared memory; a sum of two terms does not depend on their order, so this comes out
    /// equal, but the contract is agreement to rounding: 1e-6 relative to max(1, |w|) after 5
    /// AdamW steps of learning rate <= 1e-2 (the update is bounded by the rate, so rounding
    /// differences of the sums stay near Float precision of the weights).
    @Test func languageModelDefaultModeMatchesOneProcessToRounding() throws {
        let one = try Self.trainLM(processes: 1, workers: 2, shards: nil, clip: nil)[0]
        let ranks = try Self.trainLM(processes: 2, workers: 1, shards: nil, clip: nil)
        #expect(ranks[0].weights == ranks[1].weights, "every process must hold the same weights, bitwise")
        let worst = Self.largestRelativeDifference(ranks[0].weights, one.weights)
        #expect(worst <= 1e-6, "largest relative difference \(worst)")
    }

    /// Processes that would train different models stop before any step, all with the same error
    /// naming the odd rank (here rank 1 uses another seed, so other initial weights and masks).
    @Test func processesThatDisagreeStopNamingTheRank() throws {
        #expect(throws: TrainingError.processesDisagree(what: "training settings (parameters, batch, shards, seed)", ranks: [1])) {
            _ = try Self.trainLM(processes: 2, workers: 1, shards: nil, clip: nil, steps: 1, seed: { $0 == 1 ? 18 : 17 })
        }
    }

    /// Deterministic mode needs as many shards per process as workers.
    @Test func tooFewShardsPerProcessIsAClearError() throws {
        #expect(throws: TrainingError.self) {
            _ = try Self.trainLM(processes: 2, workers: 2, shards: 3, clip: nil, steps: 0)
        }
    }

    static func trainClassifier(processes: Int, workers: Int, shards: Int?, clip: Double?) throws
        -> [(values: [UInt32], norms: [UInt64], probabilities: [[UInt32]])] {
        try ThreadedProcessGroup.run(size: processes) { group in
            let t = try Classifier.trainer(workers: workers, batchSize: 8, shards: shards, clip: clip, group: group)
            let b = try Classifier.batches(batchSize: 8)
            var norms: [UInt64] = []
            for i in 0 ..< b.batchCount {
                let r = try t.trainStep(b.batch(i))
                if let clip { #expect(r.gradNorm > clip, "clipping must be active") }
                norms.append(r.gradNorm.bitPattern)
            }
            // A last batch of 3 sequences: fewer than the shards, as at the end of a split.
            let valid = try ClassificationBatches(sequences: [[2, 3, 4, 5, 6], [3, 3, 3, 3, 3, 3, 3], [9, 8, 7, 6, 5],
                                                              [4, 4, 2, 2, 9, 9]],
                                                  labels: [0, 1, 2, 1], batchSize: 3)
            let probabilities = try t.predict(valid).probabilities.map { $0.map(\.bitPattern) }
            return ((t.params.array + t.statistics.array).map(\.bitPattern), norms, probabilities)
        }
    }

    /// The classifier in deterministic mode: weights, BatchNorm statistics, norms and test-time
    /// probabilities have the bits of one process, for 2 x 1 and 2 x 2 (BatchNorm sees the whole
    /// minibatch on every process; the head's gradient is added once).
    @Test(arguments: [(2, 1), (2, 2)])
    func classifierDeterministicModeIsIndependentOfProcesses(layout: (processes: Int, workers: Int)) throws {
        let one = try Self.trainClassifier(processes: 1, workers: 1, shards: 4, clip: 0.05)[0]
        for (rank, run) in try Self.trainClassifier(processes: layout.processes, workers: layout.workers,
                                                    shards: 4, clip: 0.05).enumerated() {
            #expect(run.norms == one.norms, "rank \(rank): gradient norms")
            #expect(run.values == one.values, "rank \(rank): weights and statistics")
            #expect(run.probabilities == one.probabilities, "rank \(rank): predictions")
        }
    }

    /// Default mode: 2 processes x 1 worker against 1 process x 2 workers, to rounding (see the
    /// language-model test for the tolerance), and identical on both processes.
    @Test func classifierDefaultModeMatchesOneProcessToRounding() throws {
        let one = try Self.trainClassifier(processes: 1, workers: 2, shards: nil, clip: nil)[0]
        let ranks = try Self.trainClassifier(processes: 2, workers: 1, shards: nil, clip: nil)
        #expect(ranks[0].values == ranks[1].values, "every process must hold the same weights and statistics, bitwise")
        let worst = Self.largestRelativeDifference(ranks[0].values, one.values)
        #expect(worst <= 1e-6, "largest relative difference \(worst)")
    }

    /// max |a - b| / max(1, |b|) over Floats given as bit patterns.
    static func largestRelativeDifference(_ a: [UInt32], _ b: [UInt32]) -> Double {
        zip(a, b).map { x, y in
            let (u, v) = (Double(Float(bitPattern: x)), Double(Float(bitPattern: y)))
            return abs(u - v) / max(1, abs(v))
        }.max() ?? .infinity
    }
}
