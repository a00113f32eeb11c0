import Testing
@testable import Training

// Expected values evaluated in Python from fastai's definitions:
//   sched_cos(s, e, pos) = s + (1 + cos(pi*(1-pos))) * (e - s) / 2
//   pos = step/total; phase 1 if pos >= pct_start: sched_cos(1, 1/div_final, (pos-pct)/(1-pct)),
//   else sched_cos(1/div, 1, pos/pct); beta1 likewise through moms.
@Suite struct ScheduleTests {
    func expectValues(_ schedule: some TrainingSchedule, _ step: Int, _ lr: Double, _ beta1: Double) throws {
        let values = try schedule.values(atStep: step)
        #expect(close(values.learningRateMultiplier, lr), "lr at step \(step): \(values.learningRateMultiplier)")
        #expect(close(values.beta1, beta1), "beta1 at step \(step): \(values.beta1)")
    }

    @Test func oneCycleFastaiDefaults() throws {
        let schedule = try OneCycleSchedule(totalSteps: 100)
        try expectValues(schedule, 0, 0.04, 0.8)                               // lr_max/25
        try expectValues(schedule, 10, 0.37167184270002523, 0.7654508497187473)
        try expectValues(schedule, 25, 1.0, 0.7)                               // the peak
        try expectValues(schedule, 62, 0.5104761052295789, 0.7489528790058322)
        try expectValues(schedule, 99, 0.0004485805647213015, 0.799956141504943) // last step
        #expect(throws: TrainingError.stepOutOfRange(step: 100, totalSteps: 100)) { try schedule.values(atStep: 100) }
        #expect(throws: TrainingError.self) { try schedule.values(atStep: -1) }
    }

    @Test func oneCycleWithPctStart03() throws {
        let schedule = try OneCycleSchedule(totalSteps: 10, pctStart: 0.3)
        try expectValues(schedule, 0, 0.04, 0.8)
        try expectValues(schedule, 1, 0.2800000000000001, 0.775)
        try expectValues(schedule, 2, 0.7600000000000002, 0.725)
        try expectValues(schedule, 3, 1.0, 0.7)
        try expectValues(schedule, 5, 0.8117467834803573, 0.7188255099070633)
        try expectValues(schedule, 9, 0.04952507089312974, 0.795048443395121)
    }

    @Test func oneCycleWithoutWarmupStartsAtThePeak() throws {
        let schedule = try OneCycleSchedule(totalSteps: 4, pctStart: 0)
        try expectValues(schedule, 0, 1.0, 0.7)
        try expectValues(schedule, 3, 0.14645514494063216, 0.7853553390593274)
    }

    @Test func oneCycleRejectsBadHyperparameters() {
        #expect(throws: TrainingError.self) { try OneCycleSchedule(totalSteps: 0) }
        #expect(throws: TrainingError.self) { try OneCycleSchedule(totalSteps: 10, pctStart: 1.5) }
        #expect(throws: TrainingError.self) { try OneCycleSchedule(totalSteps: 10, div: 0) }
        #expect(throws: TrainingError.self) { try OneCycleSchedule(totalSteps: 10, moms: (0.8, 1.0, 0.8)) }
    }

    @Test func constantScheduleWithLinearWarmup() throws {
        let schedule = try ConstantSchedule(totalSteps: 10, beta1: 0.9, warmupSteps: 4)
        let multipliers = try (0..<6).map { try schedule.values(atStep: $0).learningRateMultiplier }
        #expect(multipliers == [0.25, 0.5, 0.75, 1, 1, 1])
        #expect(try schedule.values(atStep: 9).beta1 == 0.9)
        #expect(throws: TrainingError.self) { try schedule.values(atStep: 10) }
    }
}
