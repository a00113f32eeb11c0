import Foundation

/// The metrics promoter papers report for a two-class task, class 1 (promoter) positive:
/// accuracy, false positives and false negatives as fractions of all examples, recall
/// (sensitivity), precision, specificity and MCC (the Genomic ULMFiT tables), plus the ROC AUC
/// (how DNA foundation-model benchmarks report this task).
///
/// Undefined ratios (no positives, no predicted positives, ...) are 0, never NaN, as
/// scikit-learn's `zero_division=0`.
public struct BinaryMetrics: Sendable, Equatable {
    public let truePositives, trueNegatives, falsePositives, falseNegatives: Int
    /// Area under the ROC curve of the class-1 scores; nil without scores or when the labels
    /// hold one class only (the curve is undefined).
    public let auc: Double?

    /// From a 2 x 2 confusion matrix `confusion[true][predicted]` and, optionally, the ROC AUC.
    public init(confusion: [[Int]], auc: Double? = nil) {
        precondition(confusion.count == 2 && confusion.allSatisfy { $0.count == 2 }, "a 2 x 2 confusion matrix")
        trueNegatives = confusion[0][0]
        falsePositives = confusion[0][1]
        falseNegatives = confusion[1][0]
        truePositives = confusion[1][1]
        self.auc = auc
    }

    public var total: Int { truePositives + trueNegatives + falsePositives + falseNegatives }
    public var accuracy: Double { ratio(truePositives + trueNegatives, total) }
    /// False positives / all examples (the reference's "false positives" column).
    public var falsePositiveFraction: Double { ratio(falsePositives, total) }
    /// False negatives / all examples.
    public var falseNegativeFraction: Double { ratio(falseNegatives, total) }
    /// Sensitivity: TP / (TP + FN).
    public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
    /// TP / (TP + FP).
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    /// TN / (TN + FP).
    public var specificity: Double { ratio(trueNegatives, trueNegatives + falsePositives) }
    /// (TP TN - FP FN) / sqrt((TP + FP)(TP + FN)(TN + FP)(TN + FN)); 0 when a factor is 0.
    public var mcc: Double {
        let (tp, tn, fp, fn) = (Double(truePositives), Double(trueNegatives), Double(falsePositives), Double(falseNegatives))
        let denominator = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        return denominator > 0 ? (tp * tn - fp * fn) / denominator.squareRoot() : 0
    }

    private func ratio(_ a: Int, _ b: Int) -> Double { b > 0 ? Double(a) / Double(b) : 0 }

    /// Exact ROC AUC: the probability that a random positive scores above a random negative,
    /// ties counting one half (the Mann-Whitney U statistic over positives x negatives, with
    /// mid-ranks for tied scores). Equals the trapezoidal area under the ROC curve drawn through
    /// every distinct threshold, as scikit-learn's `roc_auc_score`. (Written here: none of the
    /// project's libraries computes it; O(n log n).)
    /// - Returns: nil when `labels` hold no positive or no negative.
    public static func rocAUC(labels: [Int32], scores: [Float]) -> Double? {
        precondition(labels.count == scores.count, "one score per label")
        let positives = labels.filter { $0 == 1 }.count, negatives = labels.count - positives
        guard positives > 0 && negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        // Sum of the positives' ranks (1-based), each tie group sharing its mean rank.
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let meanRank = Double(i + j + 2) / 2
            for k in i ... j where labels[order[k]] == 1 { rankSum += meanRank }
            i = j + 1
        }
        let u = rankSum - Double(positives) * Double(positives + 1) / 2
        return u / (Double(positives) * Double(negatives))
    }

    /// JSON-ready: counts and every ratio (auc null when undefined).
    public var jsonObject: [String: Any] {
        ["positive_class": 1, "tp": truePositives, "tn": trueNegatives, "fp": falsePositives, "fn": falseNegatives,
         "accuracy": accuracy, "false_positives": falsePositiveFraction, "false_negatives": falseNegativeFraction,
         "recall": recall, "precision": precision, "specificity": specificity, "mcc": mcc,
         "auc": auc.map { $0 as Any } ?? NSNull()]
    }

    /// `accuracy 0.8231 | FP 0.0900 | FN 0.0869 | recall 0.8400 | precision 0.8500 | specificity
    /// 0.8000 | MCC 0.6455 | AUC 0.9012`.
    public var summary: String {
        var line = String(format: "accuracy %.4f | FP %.4f | FN %.4f | recall %.4f | precision %.4f | specificity %.4f | MCC %.4f",
                          accuracy, falsePositiveFraction, falseNegativeFraction, recall, precision, specificity, mcc)
        if let auc { line += String(format: " | AUC %.4f", auc) }
        return line
    }
}
