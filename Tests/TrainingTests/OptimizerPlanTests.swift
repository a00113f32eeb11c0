import Testing
@testable import Training

@Suite struct OptimizerTests {
    func makeLayout() throws -> OptimizerLayout {
        try OptimizerLayout(groups: [LayerGroup(name: "body", ranges: [0..<11]), LayerGroup(name: "head", ranges: [11..<20])],
                            parameterCount: 20, excludedFromWeightDecay: [18..<20])
    }

    /// The facade equals a hand-driven shard fed with the plan's settings, including clipping.
    @Test func facadeStepEqualsShardUpdateWithScheduledSettings() throws {
        let layout = try makeLayout()
        var plan = try OptimizerPlan(layout: layout, learningRates: .slice(lower: 1e-3, upper: 1e-2),
                                     schedule: try OneCycleSchedule(totalSteps: 4, pctStart: 0.25), maxGradNorm: 0.5)
        try plan.freezeTo(-1)
        let optimizer = Optimizer(plan: plan)
        let reference = AdamWShard(range: 0..<20, groupCount: 2)
        var params = wavy(20, phase: 0.4)
        var referenceParams = params
        for step in 0..<3 {
            let grads = wavy(20, phase: 2.0 + Double(step))
            let report = try params.withUnsafeMutableBufferPointer { p in
                try grads.withUnsafeBufferPointer { g in
                    try optimizer.step(params: p.baseAddress!, grads: g.baseAddress!, count: 20, lossScale: 0.5)
                }
            }
            // Hand-driven: head-only norm (body frozen) of the loss-scaled gradients.
            let headSquares = grads[11..<20].reduce(0.0) { $0 + Double($1) * Double($1) }
            let norm = headSquares.squareRoot() * 0.5
            let scale = 0.5 * Float(min(1, 0.5 / (norm + 1e-6)))
            let settings = try plan.settings(atStep: step, gradScale: scale)
            try apply(reference, params: &referenceParams, grads: grads, layout: layout, settings: settings)

            #expect(report.step == step)
            #expect(close(report.gradNorm, norm))
            #expect(report.gradScale == scale)
            #expect(report.learningRates == settings.learningRates)
            #expect(params.map(\.bitPattern) == referenceParams.map(\.bitPattern))
        }
        #expect(Array(params[0..<11]) == Array(wavy(20, phase: 0.4)[0..<11]), "body is frozen")
        #expect(optimizer.state.stepCounts == [0, 3])
        #expect(optimizer.stepIndex == 3)
        // Step 1 of 4 with pct_start 0.25 is the peak: the head trains at its full lr of 1e-2.
        #expect(try plan.settings(atStep: 1).learningRates == [1e-3, 1e-2])
    }

    @Test func facadeRejectsWrongCountsAndStepsPastTheSchedule() throws {
        let plan = try OptimizerPlan(layout: try makeLayout(), learningRates: .uniform(1e-3),
                                     schedule: try ConstantSchedule(totalSteps: 1))
        let optimizer = Optimizer(plan: plan)
        var params = [Float](repeating: 1, count: 20)
        let grads = [Float](repeating: 0.1, count: 20)
        #expect(throws: TrainingError.self) {
            try params.withUnsafeMutableBufferPointer { p in
                try grads.withUnsafeBufferPointer { g in try optimizer.step(params: p.baseAddress!, grads: g.baseAddress!, count: 19) }
            }
        }
        for expectFailure in [false, true] {
            let run = {
                try params.withUnsafeMutableBufferPointer { p in
                    try grads.withUnsafeBufferPointer { g in try optimizer.step(params: p.baseAddress!, grads: g.baseAddress!, count: 20) }
                }
            }
            if expectFailure {
                #expect(throws: TrainingError.stepOutOfRange(step: 1, totalSteps: 1)) { try run() }
            } else {
                _ = try run()
            }
        }
    }

    @Test func nonFiniteGradientsAreReportedWhenClipping() throws {
        let plan = try OptimizerPlan(layout: try makeLayout(), learningRates: .uniform(1e-3),
                                     schedule: try ConstantSchedule(totalSteps: 5), maxGradNorm: 1)
        let optimizer = Optimizer(plan: plan)
        var params = [Float](repeating: 1, count: 20)
        var grads = [Float](repeating: 0.1, count: 20)
        grads[3] = .nan
        #expect(throws: TrainingError.self) {
            try params.withUnsafeMutableBufferPointer { p in
                try grads.withUnsafeBufferPointer { g in try optimizer.step(params: p.baseAddress!, grads: g.baseAddress!, count: 20) }
            }
        }
        #expect(params == [Float](repeating: 1, count: 20))
    }
}
