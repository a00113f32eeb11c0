import Testing
@testable import Pipeline

/// Metrics against hand-computed values.
@Suite struct ClassificationMetricsTests {
    /// Labels and predictions giving `confusion` (rows true, columns predicted).
    static func pairs(_ confusion: [[Int]]) -> (labels: [Int32], predictions: [Int32]) {
        var labels: [Int32] = [], predictions: [Int32] = []
        for (t, row) in confusion.enumerated() {
            for (p, n) in row.enumerated() {
                labels += Array(repeating: Int32(t), count: n)
                predictions += Array(repeating: Int32(p), count: n)
            }
        }
        return (labels, predictions)
    }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-12 }

    @Test func binaryCounts() throws {
        // TN 3, FP 1, FN 2, TP 4: MCC = (4*3 - 1*2) / sqrt(5 * 6 * 4 * 5) = 10 / sqrt(600).
        let (labels, predictions) = Self.pairs([[3, 1], [2, 4]])
        let m = try ClassificationMetrics(labels: labels, predictions: predictions, classCount: 2)
        #expect(m.confusion == [[3, 1], [2, 4]])
        #expect(m.accuracy == 0.7)
        #expect(Self.close(m.mcc, 10 / 600.0.squareRoot()))
        #expect(Self.close(m.precision[0], 3.0 / 5) && Self.close(m.precision[1], 4.0 / 5))
        #expect(Self.close(m.recall[0], 3.0 / 4) && Self.close(m.recall[1], 4.0 / 6))
        #expect(Self.close(m.f1[0], 2.0 / 3) && Self.close(m.f1[1], 8.0 / 11))
        #expect(Self.close(m.macroF1, (2.0 / 3 + 8.0 / 11) / 2))
        #expect(m.support == [4, 6] && m.predictedCounts == [5, 5])
    }

    @Test func perfectAndInvertedPredictions() throws {
        let labels: [Int32] = [0, 1, 1, 0, 1]
        #expect(try ClassificationMetrics(labels: labels, predictions: labels, classCount: 2).mcc == 1)
        #expect(try ClassificationMetrics(labels: labels, predictions: labels.map { 1 - $0 }, classCount: 2).mcc == -1)
    }

    @Test func multiClassIsGorodkinsRK() throws {
        // s = 10, c = 7, t = p = [3, 3, 4]: (7*10 - 34) / sqrt((100 - 34) * (100 - 34)) = 36/66.
        let (labels, predictions) = Self.pairs([[2, 1, 0], [0, 2, 1], [1, 0, 3]])
        let m = try ClassificationMetrics(labels: labels, predictions: predictions, classCount: 3)
        #expect(Self.close(m.mcc, 6.0 / 11))
        #expect(m.accuracy == 0.7)
        #expect(Self.close(m.recall[2], 0.75) && Self.close(m.precision[2], 0.75))
    }

    @Test func degenerateCasesGiveZeroNotNaN() throws {
        // One class only in labels and predictions: MCC's denominator is 0.
        let same = try ClassificationMetrics(labels: [1, 1, 1], predictions: [1, 1, 1], classCount: 2)
        #expect(same.mcc == 0 && same.accuracy == 1)
        #expect(same.precision == [0, 1] && same.recall == [0, 1] && same.f1 == [0, 1])
        // Every prediction one class (what an untrained classifier often does).
        let constant = try ClassificationMetrics(labels: [0, 1, 1, 0], predictions: [1, 1, 1, 1], classCount: 2)
        #expect(constant.mcc == 0 && constant.accuracy == 0.5 && constant.f1[0] == 0)
        let empty = try ClassificationMetrics(labels: [], predictions: [], classCount: 2)
        #expect(empty.mcc == 0 && empty.accuracy == 0 && !empty.macroF1.isNaN)
    }

    @Test func probabilitiesUseTheFirstLargestClass() throws {
        #expect(ClassificationMetrics.argmax([0.2, 0.5, 0.3]) == 1)
        #expect(ClassificationMetrics.argmax([0.5, 0.5]) == 0)
        let m = try ClassificationMetrics(labels: [0, 1], probabilities: [[0.9, 0.1], [0.4, 0.6]], classCount: 2)
        #expect(m.accuracy == 1)
    }

    @Test func badInputIsReported() {
        #expect { try ClassificationMetrics(labels: [0, 2], predictions: [0, 1], classCount: 2) } throws: {
            "\($0)".contains("row 1") && "\($0)".contains("label 2")
        }
        #expect(throws: MetricsError.self) { try ClassificationMetrics(labels: [0], predictions: [0, 1], classCount: 2) }
        #expect(throws: MetricsError.self) { try ClassificationMetrics(labels: [0], predictions: [0], classCount: 1) }
    }
}
