import Testing
@testable import Training

// Expected values were evaluated in Python (double precision) from fastai's formulas, written out
// independently:
//   p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g
//   p -= lr * (m/(1-b1**t)) / (sqrt(v/(1-b2**t)) + eps)
@Suite struct AdamWShardTests {
    @Test func threeStepsWithScheduledBeta1MatchHandComputation() throws {
        let layout = try singleGroupLayout(3)
        let shard = AdamWShard(range: 0..<3, groupCount: 1)
        var params: [Float] = [1.0, -2.0, 0.5]
        let grads: [[Float]] = [[0.1, -0.3, 0.0], [0.2, 0.1, -0.05], [-0.1, 0.4, 0.02]]
        for (grad, beta1) in zip(grads, [0.9, 0.85, 0.8]) {
            let settings = AdamWStepSettings(learningRates: [1e-2], trainable: [true], beta1: beta1)
            try apply(shard, params: &params, grads: grad, layout: layout, settings: settings)
        }
        let expectedP = [0.9793782378964894, -1.9926840078015178, 0.5087892173961707]
        let expectedM = [0.010800000000000011, 0.0716, -0.0020000000000000026]
        let expectedV = [0.0005940100000000007, 0.0025810900000000025, 2.8750000000000028e-05]
        for i in 0..<3 {
            #expect(close(params[i], expectedP[i]), "p[\(i)] = \(params[i]), expected \(expectedP[i])")
            #expect(close(shard.expAvg[i], expectedM[i]), "m[\(i)]")
            #expect(close(shard.expAvgSq[i], expectedV[i], tolerance: 1e-9), "v[\(i)]")
        }
        #expect(shard.stepCounts == [3])
    }

    /// A large eps and weight decay make eps placement (outside the sqrt) and decoupled decay visible.
    @Test func largeEpsAndWeightDecay() throws {
        let layout = try singleGroupLayout(3)
        let shard = AdamWShard(range: 0..<3, groupCount: 1)
        var params: [Float] = [1.0, -2.0, 0.5]
        for grad: [Float] in [[0.1, -0.3, 0.0], [0.2, 0.1, -0.05]] {
            let settings = AdamWStepSettings(learningRates: [0.1], trainable: [true], beta1: 0.9,
                                             eps: 0.1, weightDecay: 0.5)
            try apply(shard, params: &params, grads: grad, layout: layout, settings: settings)
        }
        let expected = [0.7959210922269336, -1.7060626170044533, 0.47067926801295684]
        for i in 0..<3 { #expect(close(params[i], expected[i]), "p[\(i)] = \(params[i])") }
    }

    /// Parameter 1 is exempt from weight decay; gradients are scaled by 0.5 on the fly.
    @Test func weightDecayExclusionAndGradScale() throws {
        let layout = try OptimizerLayout(groups: [LayerGroup(name: "all", ranges: [0..<3])], parameterCount: 3,
                                         excludedFromWeightDecay: [1..<2])
        let shard = AdamWShard(range: 0..<3, groupCount: 1)
        var params: [Float] = [1.0, 1.0, -1.0]
        for (grad, beta1): ([Float], Double) in [([0.2, 0.2, 0.4], 0.8), ([0.1, -0.1, 0.3], 0.75)] {
            let settings = AdamWStepSettings(learningRates: [0.05], trainable: [true], beta1: beta1,
                                             weightDecay: 0.2, gradScale: 0.5)
            try apply(shard, params: &params, grads: grad, layout: layout, settings: settings)
        }
        let expected = [0.8907955778754916, 0.9463859657155448, -1.0732643760897282]
        for i in 0..<3 { #expect(close(params[i], expected[i]), "p[\(i)] = \(params[i])") }
    }

    /// Groups [0, 4) at lr 1e-2 and [4, 10) at lr 1e-3; the shard owns [2, 7) only.
    @Test func sliceCrossingAGroupBoundaryUsesEachGroupsRate() throws {
        let layout = try OptimizerLayout(groups: [LayerGroup(name: "a", ranges: [0..<4]),
                                                  LayerGroup(name: "b", ranges: [4..<10])], parameterCount: 10)
        let shard = AdamWShard(range: 2..<7, groupCount: 2)
        var params = (0..<10).map { Float(0.1 * Double($0) - 0.3) }
        let before = params
        let grads = (0..<10).map { Float(0.05 * Double($0 % 3) - 0.04) }
        let settings = AdamWStepSettings(learningRates: [1e-2, 1e-3], trainable: [true, true], beta1: 0.9,
                                         weightDecay: 0.1)
        try apply(shard, params: &params, grads: grads, layout: layout, settings: settings)
        let expected = [-0.1098983336110648, 0.009997500624843845, 0.09899099900099904,
                        0.19898016663889354, 0.3009697500624845]
        for i in 2..<7 { #expect(close(params[i], expected[i - 2]), "p[\(i)] = \(params[i])") }
        for i in [0, 1, 7, 8, 9] { #expect(params[i] == before[i], "p[\(i)] is outside the shard") }
        #expect(shard.stepCounts == [1, 1])
    }

    @Test func frozenGroupGetsNoUpdateAndKeepsItsState() throws {
        let layout = try OptimizerLayout(groups: [LayerGroup(name: "body", ranges: [0..<5]),
                                                  LayerGroup(name: "head", ranges: [5..<9])], parameterCount: 9)
        let shard = AdamWShard(range: 0..<9, groupCount: 2)
        var params = wavy(9, phase: 0.3)
        let grads = wavy(9, phase: 1.7)
        let trainAll = AdamWStepSettings(learningRates: [1e-2, 1e-2], trainable: [true, true])
        try apply(shard, params: &params, grads: grads, layout: layout, settings: trainAll)

        let paramsBefore = params
        let avgBefore = Array(shard.expAvg), sqrBefore = Array(shard.expAvgSq)
        let freezeBody = AdamWStepSettings(learningRates: [1e-2, 1e-2], trainable: [false, true], weightDecay: 0.5)
        try apply(shard, params: &params, grads: wavy(9, phase: 2.9), layout: layout, settings: freezeBody)

        #expect(Array(params[0..<5]) == Array(paramsBefore[0..<5]), "frozen parameters must not move, not even by decay")
        #expect(Array(shard.expAvg[0..<5]) == Array(avgBefore[0..<5]))
        #expect(Array(shard.expAvgSq[0..<5]) == Array(sqrBefore[0..<5]))
        for i in 5..<9 { #expect(params[i] != paramsBefore[i], "head parameter \(i) must be updated") }
        #expect(shard.stepCounts == [1, 2])
    }

    /// Three workers' shards, with boundaries off the SIMD width and across groups, give the
    /// same bits as one shard over the whole buffer.
    @Test func shardedUpdateEqualsWholeBufferUpdateBitwise() throws {
        let count = 103
        let layout = try OptimizerLayout(
            groups: [LayerGroup(name: "emb", ranges: [0..<37]), LayerGroup(name: "lstm", ranges: [37..<80]),
                     LayerGroup(name: "head", ranges: [80..<103])],
            parameterCount: count, excludedFromWeightDecay: [98..<103])
        let whole = AdamWShard(range: 0..<count, groupCount: 3)
        let shards = [0..<13, 13..<61, 61..<count].map { AdamWShard(range: $0, groupCount: 3) }
        var paramsWhole = wavy(count, phase: 0.1)
        var paramsSharded = paramsWhole
        for step in 0..<3 {
            let grads = wavy(count, phase: 1.3 + Double(step))
            let settings = AdamWStepSettings(learningRates: [1e-3, 3e-3, 1e-2], trainable: [step > 0, true, true],
                                             beta1: 0.8 - 0.05 * Double(step), weightDecay: 0.1,
                                             gradScale: 0.7 + 0.1 * Float(step))
            try apply(whole, params: &paramsWhole, grads: grads, layout: layout, settings: settings)
            for shard in shards {
                try apply(shard, params: &paramsSharded, grads: grads, layout: layout, settings: settings)
            }
        }
        #expect(paramsSharded.map(\.bitPattern) == paramsWhole.map(\.bitPattern))
        let shardedAvg = shards.flatMap { Array($0.expAvg) }, shardedSqr = shards.flatMap { Array($0.expAvgSq) }
        #expect(shardedAvg.map(\.bitPattern) == Array(whole.expAvg).map(\.bitPattern))
        #expect(shardedSqr.map(\.bitPattern) == Array(whole.expAvgSq).map(\.bitPattern))
        for shard in shards { #expect(shard.stepCounts == [2, 3, 3]) }
    }

    @Test func restoreLoadsSavedStateAndRejectsWrongSizes() throws {
        let shard = AdamWShard(range: 10..<13, groupCount: 2)
        try shard.restore(expAvg: [1, 2, 3], expAvgSq: [4, 5, 6], stepCounts: [7, 8])
        #expect(Array(shard.expAvg) == [1, 2, 3])
        #expect(Array(shard.expAvgSq) == [4, 5, 6])
        #expect(shard.stepCounts == [7, 8])
        #expect(throws: TrainingError.self) { try shard.restore(expAvg: [1, 2], expAvgSq: [4, 5, 6], stepCounts: [7, 8]) }
        #expect(throws: TrainingError.self) { try shard.restore(expAvg: [1, 2, 3], expAvgSq: [4, 5, 6], stepCounts: [7]) }
    }

    @Test func mismatchedSettingsAreRejectedBeforeAnyChange() throws {
        let layout = try singleGroupLayout(4)
        let shard = AdamWShard(range: 0..<4, groupCount: 1)
        var params: [Float] = [1, 2, 3, 4]
        let bad = AdamWStepSettings(learningRates: [1e-2, 1e-3], trainable: [true])
        #expect(throws: TrainingError.groupCountMismatch(field: "learningRates", expected: 1, actual: 2)) {
            try apply(shard, params: &params, grads: [1, 1, 1, 1], layout: layout, settings: bad)
        }
        #expect(params == [1, 2, 3, 4])
        #expect(shard.stepCounts == [0])
        let outside = AdamWShard(range: 2..<6, groupCount: 1)
        #expect(throws: TrainingError.self) {
            try apply(outside, params: &params, grads: [1, 1, 1, 1], layout: layout,
                      settings: AdamWStepSettings(learningRates: [1e-2], trainable: [true]))
        }
    }
}

@Suite struct AdamWStepSettingsTests {
    @Test func outOfRangeSettingsAreRejected() {
        let good = AdamWStepSettings(learningRates: [1e-3], trainable: [true])
        #expect(throws: Never.self) { try good.validate() }
        var bad = good; bad.beta1 = 1
        #expect(throws: TrainingError.invalidHyperparameter(name: "beta1", value: 1, reason: "must be in [0, 1)")) {
            try bad.validate()
        }
        bad = good; bad.eps = 0
        #expect(throws: TrainingError.self) { try bad.validate() }
        bad = good; bad.learningRates = [.nan]
        #expect(throws: TrainingError.self) { try bad.validate() }
        bad = good; bad.gradScale = .infinity
        #expect(throws: TrainingError.self) { try bad.validate() }
    }
}
