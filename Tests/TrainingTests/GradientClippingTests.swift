import Testing
@testable import Training

@Suite struct GradientClippingTests {
    /// 1^2 + ... + 1003^2 = 336845514 (Python); every partial sum is an integer below 2^24, so
    /// the result is exact. 1003 elements exercise the blocks and the scalar tail.
    @Test func sumOfSquaresIsExactOnIntegers() {
        let values = (1...1003).map(Float.init)
        let sum = values.withUnsafeBufferPointer { GradientClipping.sumOfSquares($0.baseAddress!, count: $0.count) }
        #expect(sum == 336_845_514)
    }

    @Test func frozenGroupsAreExcludedFromTheNorm() throws {
        let layout = try OptimizerLayout(groups: [LayerGroup(name: "body", ranges: [0..<3]),
                                                  LayerGroup(name: "head", ranges: [3..<5])], parameterCount: 5)
        let grads: [Float] = [10, 10, 10, 3, 4]
        let (all, headOnly, slice) = try grads.withUnsafeBufferPointer { g in
            (try GradientClipping.sumOfSquares(grads: g.baseAddress!, slice: 0..<5, layout: layout, trainable: [true, true]),
             try GradientClipping.sumOfSquares(grads: g.baseAddress!, slice: 0..<5, layout: layout, trainable: [false, true]),
             try GradientClipping.sumOfSquares(grads: g.baseAddress!, slice: 2..<4, layout: layout, trainable: [true, true]))
        }
        #expect(all == 325)
        #expect(headOnly == 25)
        #expect(slice == 109)
    }

    @Test func clipScaleMatchesClipGradNorm() throws {
        // norm 5, max 1: 1 / (5 + 1e-6) = 0.199999960000008 (Python)
        #expect(try GradientClipping.clipScale(totalSquaredNorm: 25, maxNorm: 1) == Float(0.199999960000008))
        #expect(try GradientClipping.clipScale(totalSquaredNorm: 25, maxNorm: 10) == 1)
        #expect(try GradientClipping.clipScale(totalSquaredNorm: 0, maxNorm: 1) == 1)
        #expect(throws: TrainingError.nonFiniteGradientNorm(squaredNorm: .infinity)) {
            try GradientClipping.clipScale(totalSquaredNorm: .infinity, maxNorm: 1)
        }
        #expect(throws: TrainingError.self) { try GradientClipping.clipScale(totalSquaredNorm: .nan, maxNorm: 1) }
        #expect(throws: TrainingError.self) { try GradientClipping.clipScale(totalSquaredNorm: 1, maxNorm: 0) }
    }
}
