import Testing
@testable import Training

@Suite struct ParameterLayoutTests {
    @Test func segmentsSplitAtGroupsAndWeightDecayExclusions() throws {
        // The LM order: LSTM layers, then [embedding + decoder bias], the bias exempt from decay.
        let layout = try OptimizerLayout(
            groups: [LayerGroup(name: "lstm0", ranges: [10..<20]), LayerGroup(name: "lstm1", ranges: [20..<30]),
                     LayerGroup(name: "emb+bias", ranges: [0..<10, 30..<35])],
            parameterCount: 35, excludedFromWeightDecay: [30..<35])
        typealias S = OptimizerLayout.Segment
        #expect(layout.segments == [S(range: 0..<10, group: 2, appliesWeightDecay: true),
                                    S(range: 10..<20, group: 0, appliesWeightDecay: true),
                                    S(range: 20..<30, group: 1, appliesWeightDecay: true),
                                    S(range: 30..<35, group: 2, appliesWeightDecay: false)])
        #expect(layout.segments(overlapping: 15..<32) == [S(range: 15..<20, group: 0, appliesWeightDecay: true),
                                                          S(range: 20..<30, group: 1, appliesWeightDecay: true),
                                                          S(range: 30..<32, group: 2, appliesWeightDecay: false)])
        #expect(layout.segments(overlapping: 20..<20).isEmpty)
    }

    @Test func adjacentRangesOfOneGroupMerge() throws {
        let layout = try OptimizerLayout(groups: [LayerGroup(name: "g", ranges: [0..<4, 4..<9])], parameterCount: 9,
                                         excludedFromWeightDecay: [2..<3])
        #expect(layout.segments.map(\.range) == [0..<2, 2..<3, 3..<9])
    }

    @Test func overlapsGapsAndOutOfRangeAreErrorsNamingTheGroups() {
        #expect(throws: TrainingError.invalidLayout("group \"b\" range 3..<8 overlaps group \"a\" range 0..<4")) {
            try OptimizerLayout(groups: [LayerGroup(name: "a", ranges: [0..<4]), LayerGroup(name: "b", ranges: [3..<8])],
                                parameterCount: 8)
        }
        #expect(throws: TrainingError.invalidLayout("parameters 4..<5 belong to no layer group")) {
            try OptimizerLayout(groups: [LayerGroup(name: "a", ranges: [0..<4]), LayerGroup(name: "b", ranges: [5..<8])],
                                parameterCount: 8)
        }
        #expect(throws: TrainingError.invalidLayout("parameters 6..<8 belong to no layer group")) {
            try OptimizerLayout(groups: [LayerGroup(name: "a", ranges: [0..<6])], parameterCount: 8)
        }
        #expect(throws: TrainingError.invalidLayout("group \"a\" range 0..<9 is outside 0..<8")) {
            try OptimizerLayout(groups: [LayerGroup(name: "a", ranges: [0..<9])], parameterCount: 8)
        }
        #expect(throws: TrainingError.invalidLayout("two layer groups are named \"a\"")) {
            try OptimizerLayout(groups: [LayerGroup(name: "a", ranges: [0..<4]), LayerGroup(name: "a", ranges: [4..<8])],
                                parameterCount: 8)
        }
    }
}
