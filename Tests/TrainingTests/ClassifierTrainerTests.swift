import Testing
import GenomicData
import Model
import Parallel
import SeededRandom
@testable import Training

/// The classifier trainer: sequences split over W workers give the one-worker gradient and the
/// same BatchNorm statistics (the head sees the whole minibatch); deterministic mode makes the
/// weights independent of W.
@Suite(.serialized) struct ClassifierTrainerTests {
    static let config = AWDLSTMConfig.classifier(vocabSize: 11, embeddingSize: 6, hiddenSize: 8, layerCount: 2)

    static func batches(batchSize: Int, epoch: Int = 0) throws -> ClassificationBatches {
        var r = CounterRandom(seed: 5)
        let sequences = (0 ..< 20).map { i in (0 ..< (5 + i % 4)).map { _ in Int32(2 + r.next() % 9) } }
        let labels = (0 ..< 20).map { Int32($0 % 3) }
        return try ClassificationBatches(sequences: sequences, labels: labels, batchSize: batchSize,
                                         shuffle: (7, epoch), dropLast: true)
    }

    /// `group`: the processes (MultiProcessTrainerTests).
    static func trainer(workers: Int, batchSize: Int = 7, shards: Int? = nil, clip: Double? = nil,
                        regularization: ActivationRegularization = ActivationRegularization(),
                        config: AWDLSTMConfig = config,
                        group: ProcessGroup = SingleProcess()) throws -> ClassifierTrainer {
        let topology = try Topology.machine()
        let pool = try WorkerPool(layout: WorkerLayout(spec: LayoutSpec(workers: workers, oversubscribe: true), topology: topology),
                                  topology: topology, bind: false)
        let parameters = ClassifierParameters(config: config, classCount: 3)
        let layout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
        let plan = try OptimizerPlan(layout: layout, learningRates: .slice(lower: 1e-3, upper: 1e-2),
                                     schedule: OneCycleSchedule(totalSteps: 10), maxGradNorm: clip)
        var options = ClassifierTrainerOptions()
        options.batchSize = batchSize
        options.bptt = 4   // sequences of 5-8 tokens: the truncation boundary is exercised
        options.seed = 3
        options.deterministicShards = shards
        options.regularization = regularization
        return try ClassifierTrainer(config: config, classCount: 3, options: options, maxLength: 8, pool: pool, plan: plan,
                                     group: group)
    }

    @Test(arguments: [2, 3])
    func workersGiveTheOneWorkerGradientAndStatistics(workers: Int) throws {
        let batch = try Self.batches(batchSize: 7).batch(0)
        let one = try Self.trainer(workers: 1), many = try Self.trainer(workers: workers)
        let expected = try one.gradient(batch), actual = try many.gradient(batch)
        // Per tensor: max |difference| relative to the tensor's largest gradient. (BatchNorm over
        // 7 sequences amplifies the last-bit differences of the workers' smaller GEMMs, so a
        // small element of a large tensor can differ by more than 1e-5 of itself.)
        for spec in one.parameters.layout.specs {
            let e = expected[spec.range], a = actual[spec.range]
            let scale = max(e.map { abs($0) }.max()!, 1e-30)
            let worst = zip(a, e).map { abs($0 - $1) }.max()! / scale
            #expect(worst < 1e-5, "W=\(workers) \(spec.name): relative difference \(worst)")
        }
        // The running statistics mix the features' batch mean and variance into 0.9 x the old
        // value; the features come from GEMMs of other shapes, so they agree to a few Float ulps
        // of the largest statistic, not bitwise (a different batch would differ by ~1e-2).
        let (s1, sW) = (one.statistics.array, many.statistics.array)
        for (name, bn) in [("bn0", one.parameters.bn0), ("bn1", one.parameters.bn1)] {
            for (what, offset) in [("mean", bn.runningMeanOffset), ("var", bn.runningVarOffset)] {
                let range = offset ..< offset + bn.channels
                let scale = max(s1[range].map { abs($0) }.max()!, 1e-30)
                let worst = zip(s1[range], sW[range]).map { abs($0 - $1) }.max()! / scale
                #expect(worst < 1e-5, "W=\(workers) \(name) running \(what): relative difference \(worst)")
            }
        }
        #expect(expected.contains { $0 != 0 })
    }

    /// Every sum in deterministic mode follows the fixed shards (gradients) or fixed blocks (the
    /// gradient norm), so the norms, weights and statistics have the same bits for W = 1, 2, 3,
    /// with and without clipping (a clip of 0.05 is active on every step here).
    @Test(arguments: [nil, 0.05])
    func deterministicModeIsIndependentOfTheWorkerCount(clip: Double?) throws {
        func train(_ t: ClassifierTrainer) throws -> (values: [UInt32], norms: [UInt64]) {
            let b = try Self.batches(batchSize: 8)
            var norms: [UInt64] = []
            for i in 0 ..< b.batchCount {
                let r = try t.trainStep(b.batch(i))
                if let clip { #expect(r.gradNorm > clip, "clipping must be active") }
                norms.append(r.gradNorm.bitPattern)
            }
            return ((t.params.array + t.statistics.array).map(\.bitPattern), norms)
        }
        let one = try train(Self.trainer(workers: 1, batchSize: 8, shards: 4, clip: clip))
        for workers in [2, 3] {
            let many = try train(Self.trainer(workers: workers, batchSize: 8, shards: 4, clip: clip))
            #expect(one.norms == many.norms, "W=\(workers): gradient norms")
            #expect(one.values == many.values, "W=\(workers): weights and statistics")
        }
    }

    /// AR/TAR (on by default, fastai's alpha 2 and beta 1, in every test above) reach the
    /// gradient, and their reported values are the minibatch's whatever the split: within Float
    /// rounding of the workers' other GEMM shapes for W = 1, 2, 3 (the penalty is a sum of squares
    /// of outputs that agree to ~1e-6), bitwise in deterministic mode.
    @Test func activationRegularizationIsInTheGradientForAnyWorkerCount() throws {
        let batch = try Self.batches(batchSize: 8).batch(0)
        let plain = try Self.trainer(workers: 1, batchSize: 8, regularization: .none).gradient(batch)
        let one = try Self.trainer(workers: 1, batchSize: 8)
        let regularized = try one.gradient(batch)
        let rnn = one.parameters.encoder.layers[1].weightHH.range
        let moved = zip(plain[rnn], regularized[rnn]).map { abs($0 - $1) }.max()!
        #expect(moved > 1e-3 * regularized[rnn].map { abs($0) }.max()!, "AR/TAR must change the last layer's gradient")

        func penalty(_ t: ClassifierTrainer) throws -> (ar: Double, tar: Double) {
            let r = try t.trainStep(batch)
            return (r.ar, r.tar)
        }
        let reference = try penalty(Self.trainer(workers: 1, batchSize: 8))
        #expect(reference.ar > 0 && reference.tar > 0)
        for workers in [2, 3] {
            let p = try penalty(Self.trainer(workers: workers, batchSize: 8))
            #expect(abs(p.ar - reference.ar) <= 1e-5 * reference.ar && abs(p.tar - reference.tar) <= 1e-5 * reference.tar,
                    "W=\(workers): AR/TAR \(p) vs \(reference)")
        }
        let fixed = try penalty(Self.trainer(workers: 1, batchSize: 8, shards: 4))
        for workers in [2, 3] {
            let p = try penalty(Self.trainer(workers: workers, batchSize: 8, shards: 4))
            #expect(p.ar.bitPattern == fixed.ar.bitPattern && p.tar.bitPattern == fixed.tar.bitPattern,
                    "W=\(workers), 4 fixed shards: AR/TAR \(p) vs \(fixed)")
        }
    }

    @Test func predictionsAreProbabilitiesForEverySequence() throws {
        let t = try Self.trainer(workers: 2)
        let valid = try ClassificationBatches(sequences: [[2, 3, 4, 5, 6], [3, 3, 3, 3, 3, 3, 3], [9, 8, 7, 6, 5]],
                                              labels: [0, 1, 2], batchSize: 2)
        let (probabilities, loss, accuracy) = try t.predict(valid)
        #expect(probabilities.count == 3)
        for p in probabilities { #expect(abs(p.reduce(0, +) - 1) < 1e-5 && p.allSatisfy { $0 >= 0 }) }
        #expect(loss > 0 && (0 ... 1).contains(accuracy))
    }

    /// Gradual unfreezing: under freeze_to(-1) ... unfreeze the trainer's gradient is the
    /// unfrozen one for every trainable group and zero for the frozen ones (their backward is
    /// skipped, `EncoderGradientScope`). Two trainers of one worker on the same batch at step 0
    /// (the same dropout masks); BatchNorm uses batch statistics, so the two runs see the same
    /// values and the trainable gradients agree bitwise.
    @Test(arguments: [-1, -2, -3, 0])
    func frozenGroupsGetNoGradientAndTheRestTheFullOne(freezeTo n: Int) throws {
        let batch = try Self.batches(batchSize: 7).batch(0)
        let full = try Self.trainer(workers: 1), frozen = try Self.trainer(workers: 1)
        var plan = frozen.plan
        try plan.freezeTo(n)
        try frozen.beginStage(plan)
        let expected = try full.gradient(batch), actual = try frozen.gradient(batch)
        let groups = frozen.plan.layout.groups
        for (g, group) in groups.enumerated() {
            for range in group.ranges {
                if plan.trainable[g] {
                    #expect(Array(actual[range]) == Array(expected[range]), "freeze_to(\(n)): \(group.name) trains")
                } else {
                    #expect(actual[range].allSatisfy { $0 == 0 }, "freeze_to(\(n)): \(group.name) is frozen")
                    #expect(expected[range].contains { $0 != 0 }, "\(group.name) has a gradient when unfrozen")
                }
            }
        }
        #expect(frozen.gradientScope(trainable: plan.trainable).layers == Array(plan.trainable[1 ..< groups.count - 1]))
    }

    /// The `--stages head` probe: with the encoder frozen in evaluation mode, the head sees the
    /// features of an encoder without any dropout, so its gradient is bitwise the one a model
    /// whose encoder dropouts are all zero gets (the head's own dropout, `outputP`, and its key
    /// are the same in both), and differs from fastai's `freeze()`, whose encoder keeps them.
    @Test func headProbeRunsTheFrozenEncoderWithoutDropout() throws {
        let batch = try Self.batches(batchSize: 7).batch(0)
        var noEncoderDropout = Self.config
        noEncoderDropout.embedP = 0; noEncoderDropout.inputP = 0; noEncoderDropout.weightP = 0; noEncoderDropout.hiddenP = 0
        func headOnly(_ t: ClassifierTrainer, evalMode: Bool) throws -> [Float] {
            var plan = t.plan
            try plan.freezeTo(-1)
            try t.beginStage(plan)
            t.encoderInEvalMode = evalMode
            return try t.gradient(batch)
        }
        let probe = try headOnly(Self.trainer(workers: 2), evalMode: true)
        let reference = try headOnly(Self.trainer(workers: 2, config: noEncoderDropout), evalMode: false)
        let fastaiFreeze = try headOnly(Self.trainer(workers: 2), evalMode: false)
        #expect(probe == reference, "the probe's head sees the dropout-free encoder's features")
        #expect(probe != fastaiFreeze, "freeze() keeps the encoder's dropouts, the probe does not")
        #expect(probe.contains { $0 != 0 })
    }
}
