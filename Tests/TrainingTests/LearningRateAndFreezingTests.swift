import Testing
@testable import Training

@Suite struct LearningRateAndFreezingTests {
    /// ULMFiT: slice(lr/2.6**4, lr) over 5 groups; fastai even_mults evaluated in Python.
    @Test func evenMultsForULMFiTSlice() throws {
        let rates = try LearningRateSpec.slice(lower: 1e-2 / pow(2.6, 4), upper: 1e-2).learningRates(groupCount: 5)
        let expected = [0.00021882987290360977, 0.0005689576695493855, 0.0014792899408284023,
                        0.0038461538461538455, 0.01]
        #expect(rates.count == 5)
        for (rate, want) in zip(rates, expected) { #expect(close(rate, want), "\(rate) vs \(want)") }
        #expect(LearningRateSpec.evenMults(1e-3, 1e-1, count: 3).enumerated().allSatisfy {
            close($0.element, [0.001, 0.01, 0.1][$0.offset]) })
        #expect(LearningRateSpec.evenMults(1e-3, 1e-1, count: 1) == [1e-1])
    }

    @Test func uniformAndUpToSlices() throws {
        #expect(try LearningRateSpec.uniform(3e-3).learningRates(groupCount: 3) == [3e-3, 3e-3, 3e-3])
        #expect(try LearningRateSpec.upTo(1e-2).learningRates(groupCount: 3) == [1e-3, 1e-3, 1e-2])
        #expect(throws: TrainingError.self) { try LearningRateSpec.uniform(-1).learningRates(groupCount: 3) }
        #expect(throws: TrainingError.self) { try LearningRateSpec.slice(lower: 0, upper: 1).learningRates(groupCount: 3) }
    }

    @Test func freezeToFollowsFastai() throws {
        func flags(_ n: Int) throws -> [Bool] { try GroupFreezing.trainableFlags(freezeTo: n, groupCount: 5) }
        #expect(try flags(0) == [true, true, true, true, true])
        #expect(try flags(1) == [false, true, true, true, true])
        #expect(try flags(3) == [false, false, false, true, true])
        #expect(try flags(5) == [false, false, false, false, false])
        #expect(try flags(-1) == [false, false, false, false, true])
        #expect(try flags(-2) == [false, false, false, true, true])
        #expect(try flags(-3) == [false, false, true, true, true])
        #expect(try flags(-5) == [true, true, true, true, true])
        #expect(throws: TrainingError.freezeIndexOutOfRange(index: 6, groupCount: 5)) { try flags(6) }
        #expect(throws: TrainingError.freezeIndexOutOfRange(index: -6, groupCount: 5)) { try flags(-6) }
    }
}

import Foundation
