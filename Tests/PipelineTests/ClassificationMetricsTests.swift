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

    /// Every column of the reference's tables, by hand. TN 3, FP 1, FN 2, TP 4 of 10:
    /// FP 1/10, FN 2/10, recall 4/6, precision 4/5, specificity 3/4, MCC 10/sqrt(600).
    @Test func binaryMetricsOfTheReferenceTables() throws {
        let (labels, predictions) = Self.pairs([[3, 1], [2, 4]])
        let b = try #require(try ClassificationMetrics(labels: labels, predictions: predictions, classCount: 2).binary)
        #expect(b.truePositives == 4 && b.trueNegatives == 3 && b.falsePositives == 1 && b.falseNegatives == 2)
        #expect(Self.close(b.accuracy, 0.7) && Self.close(b.falsePositiveFraction, 0.1)
                && Self.close(b.falseNegativeFraction, 0.2))
        #expect(Self.close(b.recall, 4.0 / 6) && Self.close(b.precision, 4.0 / 5) && Self.close(b.specificity, 3.0 / 4))
        #expect(Self.close(b.mcc, 10 / 600.0.squareRoot()))
        #expect(b.auc == nil, "no probabilities, no AUC")
        // A second, unbalanced matrix: TN 50, FP 10, FN 5, TP 35 of 100: MCC = (35*50 - 10*5) /
        // sqrt(45 * 40 * 60 * 55) = 1700 / sqrt(5,940,000).
        let c = BinaryMetrics(confusion: [[50, 10], [5, 35]])
        #expect(Self.close(c.falsePositiveFraction, 0.10) && Self.close(c.falseNegativeFraction, 0.05))
        #expect(Self.close(c.recall, 35.0 / 40) && Self.close(c.precision, 35.0 / 45) && Self.close(c.specificity, 50.0 / 60))
        #expect(Self.close(c.mcc, 1700 / 5_940_000.0.squareRoot()))
        // Degenerate: no predicted positives: precision and MCC 0, not NaN.
        let none = BinaryMetrics(confusion: [[5, 0], [3, 0]])
        #expect(none.precision == 0 && none.mcc == 0 && none.recall == 0 && none.specificity == 1)
    }

    /// Positives score 0.9, 0.8, 0.5, 0.5, negatives 0.7, 0.5, 0.2. Of the 12 pairs the
    /// positive wins 3 (0.9) + 3 (0.8) + 1.5 + 1.5 (each 0.5: beats 0.2, ties 0.5, loses to 0.7):
    /// AUC 9/12. Ties count one half whatever the order the scores come in.
    @Test func rocAUCByHandWithTies() throws {
        let labels: [Int32] = [1, 0, 1, 1, 0, 1, 0]
        let scores: [Float] = [0.5, 0.7, 0.9, 0.5, 0.5, 0.8, 0.2]
        #expect(BinaryMetrics.rocAUC(labels: labels, scores: scores) == 0.75)
        #expect(BinaryMetrics.rocAUC(labels: labels.reversed(), scores: scores.reversed()) == 0.75)
        #expect(BinaryMetrics.rocAUC(labels: [0, 1, 0, 1], scores: [0.1, 0.2, 0.3, 0.4]) == 0.75)
        #expect(BinaryMetrics.rocAUC(labels: [0, 0, 1, 1], scores: [0.1, 0.2, 0.3, 0.4]) == 1)
        #expect(BinaryMetrics.rocAUC(labels: [1, 1, 0, 0], scores: [0.1, 0.2, 0.3, 0.4]) == 0)
        #expect(BinaryMetrics.rocAUC(labels: [0, 1, 0, 1], scores: [0.5, 0.5, 0.5, 0.5]) == 0.5)
        #expect(BinaryMetrics.rocAUC(labels: [1, 1], scores: [0.1, 0.2]) == nil, "one class: undefined")
        // From probabilities: class 1's column is the score.
        let m = try ClassificationMetrics(labels: labels, probabilities: scores.map { [1 - $0, $0] }, classCount: 2)
        #expect(m.auc == 0.75 && m.binary?.auc == 0.75)
        #expect(try ClassificationMetrics(labels: [0, 1, 2], probabilities: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                                          classCount: 3).auc == nil)
    }

    /// test.json and evaluate's JSON hold every column, and the summary line prints them.
    @Test func jsonAndSummaryHoldEveryMetric() throws {
        let labels: [Int32] = [1, 0, 1, 1, 0, 1, 0]
        let probabilities = [0.5, 0.7, 0.9, 0.5, 0.5, 0.8, 0.2].map { (p: Float) in [1 - p, p] }
        let evaluation = try ClassifierEvaluation(labels: labels, probabilities: probabilities, loss: 0.5, classCount: 2)
        let binary = try #require(evaluation.jsonObject()["binary"] as? [String: Any])
        for key in ["accuracy", "false_positives", "false_negatives", "recall", "precision", "specificity", "mcc", "auc"] {
            #expect(binary[key] is Double, "binary.\(key)")
        }
        #expect(evaluation.jsonObject()["auc"] as? Double == 0.75)
        for field in ["accuracy", "FP", "FN", "recall", "precision", "specificity", "MCC", "AUC 0.7500"] {
            #expect(evaluation.summaryLine.contains(field), "\(evaluation.summaryLine) lacks \(field)")
        }
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
