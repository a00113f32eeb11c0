import Foundation

/// Accuracy, Matthews correlation, per-class precision/recall/F1 and the confusion matrix of
/// a set of predictions, and for two classes every metric of the Genomic ULMFiT tables plus the
/// ROC AUC (`binary`).
///
/// MCC is Gorodkin's R_K (2004), the multi-class generalization that equals the usual binary
/// MCC for two classes. Undefined ratios (a class never predicted, a single class in the labels)
/// are 0, as scikit-learn's `matthews_corrcoef` and `zero_division=0` give, never NaN.
public struct ClassificationMetrics: Sendable, Equatable {
    /// `confusion[t][p]`: sequences of true class `t` predicted as class `p`.
    public let confusion: [[Int]]
    /// ROC AUC of class 1's probability (two classes, built from probabilities, both classes
    /// present in the labels); else nil.
    public let auc: Double?

    public var classCount: Int { confusion.count }
    public var total: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Sequences of each true class (row sums).
    public var support: [Int] { confusion.map { $0.reduce(0, +) } }
    /// Predictions of each class (column sums).
    public var predictedCounts: [Int] { (0 ..< classCount).map { p in confusion.reduce(0) { $0 + $1[p] } } }
    public var correct: Int { (0 ..< classCount).reduce(0) { $0 + confusion[$1][$1] } }

    /// - Throws: `MetricsError` when the counts differ, `classCount < 2`, or a label or
    ///   prediction is outside `0..<classCount`.
    public init(labels: [Int32], predictions: [Int32], classCount: Int) throws {
        guard classCount >= 2 else { throw MetricsError("need at least 2 classes, got \(classCount)") }
        guard labels.count == predictions.count else {
            throw MetricsError("\(labels.count) labels but \(predictions.count) predictions")
        }
        var confusion = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for (i, (t, p)) in zip(labels, predictions).enumerated() {
            guard (0 ..< Int32(classCount)).contains(t), (0 ..< Int32(classCount)).contains(p) else {
                throw MetricsError("row \(i): label \(t) or prediction \(p) is not a class of 0..<\(classCount)")
            }
            confusion[Int(t)][Int(p)] += 1
        }
        self.confusion = confusion
        auc = nil
    }

    /// Metrics of class probabilities: each row's prediction is its most probable class (the
    /// first on ties, as `argmax`); with two classes also the ROC AUC of class 1's probability.
    public init(labels: [Int32], probabilities: [[Float]], classCount: Int) throws {
        if let bad = probabilities.firstIndex(where: { $0.count != classCount }) {
            throw MetricsError("row \(bad): \(probabilities[bad].count) probabilities for \(classCount) classes")
        }
        let plain = try Self(labels: labels, predictions: probabilities.map(Self.argmax), classCount: classCount)
        confusion = plain.confusion
        auc = classCount == 2 ? BinaryMetrics.rocAUC(labels: labels, scores: probabilities.map { $0[1] }) : nil
    }

    /// The two-class metrics (class 1 positive); nil for more classes.
    public var binary: BinaryMetrics? { classCount == 2 ? BinaryMetrics(confusion: confusion, auc: auc) : nil }

    /// Index of the largest value (the first of equal maxima).
    public static func argmax(_ values: [Float]) -> Int32 {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return Int32(best)
    }

    /// Fraction predicted correctly (0 for no predictions).
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }

    /// Gorodkin's R_K: `(c s - sum_k p_k t_k) / sqrt((s^2 - sum_k p_k^2) (s^2 - sum_k t_k^2))`
    /// with `c` correct, `s` total, `t_k` true and `p_k` predicted counts of class k.
    /// 0 when the denominator is 0 (all labels or all predictions in one class).
    public var mcc: Double {
        let s = Double(total), c = Double(correct)
        let t = support.map(Double.init), p = predictedCounts.map(Double.init)
        let numerator = c * s - zip(t, p).reduce(0) { $0 + $1.0 * $1.1 }
        let denominator = (s * s - p.reduce(0) { $0 + $1 * $1 }) * (s * s - t.reduce(0) { $0 + $1 * $1 })
        return denominator > 0 ? numerator / denominator.squareRoot() : 0
    }

    /// Per class: correct predictions of the class / predictions of the class (0 if never predicted).
    public var precision: [Double] {
        let p = predictedCounts
        return (0 ..< classCount).map { p[$0] > 0 ? Double(confusion[$0][$0]) / Double(p[$0]) : 0 }
    }

    /// Per class: correct predictions of the class / sequences of the class (0 if absent).
    public var recall: [Double] {
        let t = support
        return (0 ..< classCount).map { t[$0] > 0 ? Double(confusion[$0][$0]) / Double(t[$0]) : 0 }
    }

    /// Per class: harmonic mean of precision and recall (0 when both are 0).
    public var f1: [Double] {
        zip(precision, recall).map { p, r in p + r > 0 ? 2 * p * r / (p + r) : 0 }
    }

    /// Unweighted mean of the per-class F1 scores.
    public var macroF1: Double { f1.reduce(0, +) / Double(classCount) }

    /// A JSON-ready dictionary: accuracy, mcc, macro_f1, per-class lists and the confusion
    /// matrix; for two classes also `auc` and `binary` (`BinaryMetrics.jsonObject`).
    public var jsonObject: [String: Any] {
        var object: [String: Any] = ["count": total, "accuracy": accuracy, "mcc": mcc, "macro_f1": macroF1,
                                     "precision": precision, "recall": recall, "f1": f1, "support": support,
                                     "confusion": confusion]
        if let binary {
            object["binary"] = binary.jsonObject
            object["auc"] = auc.map { $0 as Any } ?? NSNull()
        }
        return object
    }
}

/// Predictions that cannot be scored.
public struct MetricsError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "classification metrics: \(message)" }
}
