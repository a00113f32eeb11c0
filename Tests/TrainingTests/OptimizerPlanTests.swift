import Testing
@testable import Training

/// `OptimizerPlan` drives the sharded AdamW step the way the data-parallel engine does: the
/// schedule's settings, discriminative rates, freezing and the clipping scale.
@Suite struct OptimizerPlanTests {
    func makeLayout() throws -> OptimizerLayout {
        try OptimizerLayout(groups: [LayerGroup(name: "body", ranges: [0..<11]), LayerGroup(name: "head", ranges: [11..<20])],
                            parameterCount: 20, excludedFromWeightDecay: [18..<20])
    }

    /// Three steps of a one-cycle plan with the body frozen and clipping on: the clipping scale
    /// equals `clip_grad_norm_`'s on the head's loss-scaled gradients, and the body never moves.
    @Test func planStepsFollowScheduleFreezingAndClipping() throws {
        let layout = try makeLayout()
        var plan = try OptimizerPlan(layout: layout, learningRates: .slice(lower: 1e-3, upper: 1e-2),
                                     schedule: try OneCycleSchedule(totalSteps: 4, pctStart: 0.25), maxGradNorm: 0.5)
        try plan.freezeTo(-1)
        let shard = AdamWShard(range: 0..<20, groupCount: 2)
        var params = wavy(20, phase: 0.4)
        for step in 0..<3 {
            let grads = wavy(20, phase: 2.0 + Double(step))
            let squares = try grads.withUnsafeBufferPointer {
                try GradientClipping.sumOfSquares(grads: $0.baseAddress!, slice: 0..<20, layout: layout, trainable: plan.trainable)
            }
            let scale = try plan.gradScale(totalSquaredNorm: squares, lossScale: 0.5)
            // By hand, in Double: the head-only norm of the loss-scaled gradients. The code sums
            // in another order (Float blocks, then Double), so compare to Float rounding.
            let norm = grads[11..<20].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() * 0.5
            #expect(close(scale, 0.5 * min(1, 0.5 / (norm + 1e-6))), "step \(step): scale \(scale)")
            try apply(shard, params: &params, grads: grads, layout: layout,
                      settings: plan.settings(atStep: step, gradScale: scale))
        }
        #expect(Array(params[0..<11]) == Array(wavy(20, phase: 0.4)[0..<11]), "body is frozen")
        #expect(Array(params[11..<20]) != Array(wavy(20, phase: 0.4)[11..<20]), "head trains")
        #expect(shard.stepCounts == [0, 3])
        // Step 1 of 4 with pct_start 0.25 is the peak: the head trains at its full lr of 1e-2.
        #expect(try plan.settings(atStep: 1).learningRates == [1e-3, 1e-2])
    }

    @Test func stepsPastTheScheduleAreRejected() throws {
        let plan = try OptimizerPlan(layout: try makeLayout(), learningRates: .uniform(1e-3),
                                     schedule: try ConstantSchedule(totalSteps: 1))
        _ = try plan.settings(atStep: 0)
        #expect(throws: TrainingError.stepOutOfRange(step: 1, totalSteps: 1)) { try plan.settings(atStep: 1) }
    }

    @Test func nonFiniteNormsAreRejectedWhenClipping() throws {
        let plan = try OptimizerPlan(layout: try makeLayout(), learningRates: .uniform(1e-3),
                                     schedule: try ConstantSchedule(totalSteps: 5), maxGradNorm: 1)
        #expect(throws: TrainingError.self) { try plan.gradScale(totalSquaredNorm: .nan) }
        #expect(throws: TrainingError.self) { try plan.gradScale(totalSquaredNorm: .infinity) }
        #expect(try plan.gradScale(totalSquaredNorm: 4) == Float(1 / (2 + 1e-6)))
    }
}
