import Testing
import GenomicData
import Model
import Parallel
import SeededRandom
@testable import Training

/// The forward-only classifier: the trainer's evaluation pass gives the same probabilities,
/// results do not depend on the number of workers, and bad sequences are named.
@Suite(.serialized) struct ClassifierInferenceTests {
    static let config = ClassifierTrainerTests.config

    /// 23 sequences of 3-12 tokens (random ids of the 11-word vocabulary, padding id 0 excluded).
    static let sequences: [[Int32]] = {
        var r = CounterRandom(seed: 17)
        return (0 ..< 23).map { i in (0 ..< (3 + (i * 7) % 10)).map { _ in Int32(1 + r.next() % 10) } }
    }()

    static func pool(_ workers: Int) throws -> WorkerPool {
        let topology = try Topology.machine()
        return try WorkerPool(layout: WorkerLayout(spec: LayoutSpec(workers: workers, oversubscribe: true), topology: topology),
                              topology: topology, bind: false)
    }

    /// A trainer after a few steps: weights and BatchNorm statistics away from their start.
    static func trainedTrainer(maxLength: Int = 12) throws -> ClassifierTrainer {
        let parameters = ClassifierParameters(config: config, classCount: 3)
        let layout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
        let plan = try OptimizerPlan(layout: layout, learningRates: .uniform(3e-2), schedule: ConstantSchedule(totalSteps: 4))
        var options = ClassifierTrainerOptions()
        options.batchSize = 6
        options.bptt = 5
        let trainer = try ClassifierTrainer(config: config, classCount: 3, options: options, maxLength: maxLength,
                                            pool: pool(2), plan: plan)
        let labels = sequences.indices.map { Int32($0 % 3) }
        let batches = try ClassificationBatches(sequences: sequences, labels: labels, batchSize: 6, shuffle: (1, 0), dropLast: true)
        for i in 0 ..< batches.batchCount { _ = try trainer.trainStep(batches.batch(i)) }
        return trainer
    }

    /// Input projections 4 steps at a time: sequences of up to 12 tokens cross 1-2 chunk
    /// boundaries, where the cell state is carried.
    static func inference(_ trainer: ClassifierTrainer, workers: Int, batchSize: Int, maxLength: Int = 12) throws -> ClassifierInference {
        try ClassifierInference(parameters: trainer.parameters, params: trainer.params.array,
                                statistics: trainer.statistics.array, pool: pool(workers),
                                batchSize: batchSize, maxLength: maxLength, gemm: .measured, timeChunk: 4)
    }

    /// Same weights, same statistics: the evaluation pass of the trainer (batches of 6 in input
    /// order, split over its 2 workers) and inference (batches of 5, longest first) differ only
    /// in the shapes of their products, so probabilities agree to Float rounding through a few
    /// layers (measured 3e-8; the bound, 1e-5, is far below any real change: a state not carried
    /// across a chunk boundary moves them by ~3e-3), never bitwise.
    @Test func matchesTheTrainersEvaluationPass() throws {
        let trainer = try Self.trainedTrainer()
        let expected = try Self.evaluationPass(trainer, Self.sequences)
        let actual = try Self.inference(trainer, workers: 2, batchSize: 5).probabilities(Self.sequences)
        #expect(actual.count == Self.sequences.count)
        var worst: Float = 0
        for (e, a) in zip(expected, actual) {
            #expect(a.count == 3)
            #expect(abs(a.reduce(0, +) - 1) < 1e-5)
            worst = max(worst, zip(e, a).map { abs($0 - $1) }.max()!)
        }
        #expect(worst < 1e-5, "largest probability difference \(worst)")
        // The model is not trivial: the probabilities differ between sequences.
        #expect(Set(expected.map { $0[0] }).count > 5)
    }

    /// A batch is fixed by the input and computed whole by one worker, so any number of workers
    /// gives the same bits.
    @Test(arguments: [2, 3])
    func resultsAreIndependentOfTheWorkerCount(workers: Int) throws {
        let trainer = try Self.trainedTrainer()
        let one = try Self.inference(trainer, workers: 1, batchSize: 4).probabilities(Self.sequences)
        let many = try Self.inference(trainer, workers: workers, batchSize: 4).probabilities(Self.sequences)
        #expect(one.map { $0.map(\.bitPattern) } == many.map { $0.map(\.bitPattern) })
    }

    /// Sequences longer than the replicas were built for grow them; the result is that of a
    /// classifier built for the longer length from the start.
    @Test func growsForLongerSequences() throws {
        let trainer = try Self.trainedTrainer()
        let small = try Self.inference(trainer, workers: 2, batchSize: 4, maxLength: 3)
        let big = try Self.inference(trainer, workers: 2, batchSize: 4, maxLength: 12)
        let a = try small.probabilities(Self.sequences), b = try big.probabilities(Self.sequences)
        #expect(small.maxLength == 12)
        #expect(a.map { $0.map(\.bitPattern) } == b.map { $0.map(\.bitPattern) })
    }

    @Test func badSequencesAreNamed() throws {
        let trainer = try Self.trainedTrainer()
        let classifier = try Self.inference(trainer, workers: 2, batchSize: 4)
        #expect(throws: InferenceError.emptySequence(index: 1)) {
            try classifier.probabilities([[2, 3], [], [4]])
        }
        #expect(throws: InferenceError.tokenOutOfRange(index: 2, position: 1, token: 11, vocabSize: 11)) {
            try classifier.probabilities([[2, 3], [4], [5, 11]])
        }
        #expect(try classifier.probabilities([]).isEmpty)
    }

    /// The trainer's evaluation pass (`predict`), for the comparison above.
    static func evaluationPass(_ trainer: ClassifierTrainer, _ sequences: [[Int32]]) throws -> [[Float]] {
        let batches = try ClassificationBatches(sequences: sequences, labels: [Int32](repeating: 0, count: sequences.count),
                                                batchSize: trainer.options.batchSize)
        return try trainer.predict(batches).probabilities
    }
}
