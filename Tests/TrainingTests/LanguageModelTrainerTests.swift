import Foundation
import GenomicData
import Kernels
import Model
import Parallel
import SeededRandom
import Testing
@testable import Training

/// The data-parallel trainer's proofs: W workers compute the one-worker gradient, runs are
/// bitwise reproducible, deterministic mode is independent of W, and training learns.
/// Thread pools pin threads, so these run one at a time.
@Suite(.serialized) struct LanguageModelTrainerTests {
    static let config: AWDLSTMConfig = {
        var c = AWDLSTMConfig(vocabSize: 13, embeddingSize: 8, hiddenSize: 12, layerCount: 3)
        c = c.scaled(dropMult: 1.5)   // every dropout on: masks must not depend on the split
        return c
    }()

    static func pool(workers: Int) throws -> WorkerPool {
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: LayoutSpec(workers: workers, oversubscribe: true), topology: topology)
        return try WorkerPool(layout: layout, topology: topology, bind: false)
    }

    static func plan(_ config: AWDLSTMConfig, steps: Int = 10, clip: Double? = nil) throws -> OptimizerPlan {
        let parameters = LanguageModelParameters(config: config)
        let layout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
        return try OptimizerPlan(layout: layout, learningRates: .slice(lower: 1e-3, upper: 1e-2),
                                 schedule: OneCycleSchedule(totalSteps: steps), maxGradNorm: clip)
    }

    static func batches(batchSize: Int, bptt: Int) throws -> LanguageModelBatches {
        var r = CounterRandom(seed: 99)
        let docs = (0 ..< 5).map { _ in (0 ..< 40).map { _ in Int32(1 + r.next() % 12) } }
        return try LanguageModelBatches(documents: docs, batchSize: batchSize, bptt: bptt)
    }

    /// `group`: the processes (MultiProcessTrainerTests); `seed` 17 unless a test needs another.
    static func trainer(workers: Int, batchSize: Int = 7, shards: Int? = nil, clip: Double? = nil,
                        seed: UInt64 = 17, group: ProcessGroup = SingleProcess()) throws -> LanguageModelTrainer {
        var options = LanguageModelTrainerOptions()
        options.batchSize = batchSize
        options.bptt = 6
        options.seed = seed
        options.deterministicShards = shards
        return try LanguageModelTrainer(config: config, options: options, pool: pool(workers: workers),
                                        plan: plan(config, clip: clip), group: group)
    }

    /// The reference: one replica over all B streams, no trainer; the gradient of the effective
    /// recurrent matrices masked into that of the raw ones, as the trainer reports it.
    static func referenceGradient(batches: LanguageModelBatches, window: Int, params: FloatBuffer) -> [Float] {
        let parameters = LanguageModelParameters(config: config)
        let B = batches.batchSize
        let model = LanguageModel(parameters: parameters, streamCapacity: B, steps: batches.bptt)
        let shared = WeightDropState(parameters: parameters.encoder)
        let grads = FloatBuffer(count: parameters.layout.count)
        let key = DropoutKey(seed: 17, step: 0)
        shared.prepareAndPack(params: params.pointer, key: key)
        let w = batches.window(window)
        _ = model.trainStep(tokens: w.inputs, targets: w.targets, steps: w.seqLen, streams: B,
                            params: params.pointer, shared: shared, grads: grads.pointer,
                            dropout: (key, 0), normalizer: LossNormalizer(streams: B, steps: w.seqLen),
                            regularization: ActivationRegularization())
        shared.maskGradients(grads.pointer, range: 0 ..< grads.count)
        return grads.array
    }

    @Test(arguments: [1, 2, 3])
    func workersSumToTheFullBatchGradient(workers: Int) throws {
        let trainer = try Self.trainer(workers: workers)   // B = 7: uneven splits for W = 2, 3
        let batches = try Self.batches(batchSize: 7, bptt: 6)
        let expected = Self.referenceGradient(batches: batches, window: 0, params: trainer.params)
        let actual = try trainer.gradient(batches, window: 0)
        var worst = 0.0
        let scale = expected.map { abs(Double($0)) }.max()!
        for i in 0 ..< expected.count {
            worst = max(worst, abs(Double(actual[i]) - Double(expected[i])) / max(abs(Double(expected[i])), 1e-3 * scale))
        }
        #expect(worst < 1e-5, "W=\(workers): worst relative difference \(worst)")
        #expect(expected.contains { $0 != 0 })
    }

    static func train(_ trainer: LanguageModelTrainer, steps: Int) throws -> [Float] {
        let batches = try Self.batches(batchSize: trainer.options.batchSize, bptt: 6)
        for s in 0 ..< steps { _ = try trainer.trainStep(batches, window: s % batches.windowCount) }
        return trainer.params.array
    }

    @Test func twoIdenticalRunsGiveBitwiseIdenticalWeights() throws {
        let a = try Self.train(Self.trainer(workers: 2, clip: 0.5), steps: 6)
        let b = try Self.train(Self.trainer(workers: 2, clip: 0.5), steps: 6)
        #expect(a == b)
        let initial = try Self.trainer(workers: 1).params.array
        #expect(a != initial, "training must change the weights")
    }

    /// Every sum in deterministic mode follows the fixed shards (gradients, losses) or fixed
    /// blocks (the gradient norm), so the norms and the weights have the same bits for W = 1, 2,
    /// 3, with and without clipping (a clip of 0.05 is active on every step here). The norms are
    /// compared too: a norm summed per worker slice differs in its last bits between W, which the
    /// clipping scale, rounded to Float, hides on most steps but not all (the weights of the
    /// issue's run diverged on some hosts only).
    @Test(arguments: [nil, 0.05])
    func deterministicModeIsIndependentOfTheWorkerCount(clip: Double?) throws {
        func run(workers: Int) throws -> (weights: [UInt32], norms: [UInt64]) {
            let trainer = try Self.trainer(workers: workers, batchSize: 8, shards: 4, clip: clip)
            let batches = try Self.batches(batchSize: 8, bptt: 6)
            var norms: [UInt64] = []
            for s in 0 ..< 5 {
                let r = try trainer.trainStep(batches, window: s % batches.windowCount)
                if let clip { #expect(r.gradNorm > clip, "clipping must be active") }
                norms.append(r.gradNorm.bitPattern)
            }
            return (trainer.params.array.map(\.bitPattern), norms)
        }
        let one = try run(workers: 1)
        for workers in [2, 3] {
            let many = try run(workers: workers)
            #expect(one.norms == many.norms, "W=\(workers): gradient norms")
            #expect(one.weights == many.weights, "W=\(workers): weights")
        }
    }

    /// A diverging step (here: a NaN weight makes the loss and gradients NaN) changes nothing and
    /// names what went wrong; the step counter stays.
    @Test func nonFiniteStepsAreRefusedAndLeaveTheWeights() throws {
        let trainer = try Self.trainer(workers: 2)
        let batches = try Self.batches(batchSize: 7, bptt: 6)
        _ = try trainer.trainStep(batches, window: 0)
        let decoderBias = trainer.parameters.decoderBias.offset
        trainer.params[decoderBias] = .nan
        let before = trainer.params.array
        #expect {
            _ = try trainer.trainStep(batches, window: 1)
        } throws: { error in
            guard case TrainingError.nonFinite(let step, let what) = error else { return false }
            return step == 2 && what.contains("loss")
        }
        #expect(trainer.params.array.map(\.bitPattern) == before.map(\.bitPattern))
        #expect(trainer.step == 1)
    }

    @Test func impossibleSplitsAreRejectedBeforeWork() throws {
        #expect(throws: LayoutError.self) { try Self.trainer(workers: 3, batchSize: 2) }
        #expect(throws: TrainingError.self) { try Self.trainer(workers: 3, batchSize: 8, shards: 2) }
    }
}
