import Foundation
import GenomicData
import OutputFiles
import Training

/// A classifier's results on one split: mean cross-entropy, metrics, and every sequence's
/// class probabilities (in the split's order).
public struct ClassifierEvaluation: Sendable {
    public var loss: Double
    public var metrics: ClassificationMetrics
    public var labels: [Int32]
    /// `probabilities[i][c]`: probability of class `c` for sequence `i`.
    public var probabilities: [[Float]]

    public init(labels: [Int32], probabilities: [[Float]], loss: Double, classCount: Int) throws {
        self.loss = loss
        self.labels = labels
        self.probabilities = probabilities
        metrics = try ClassificationMetrics(labels: labels, probabilities: probabilities, classCount: classCount)
    }

    /// Runs `trainer` in evaluation mode (no dropout, BatchNorm running statistics) over
    /// `sequences` in order, `batchSize` at a time.
    public static func measure(_ trainer: ClassifierTrainer, sequences: [[Int32]], labels: [Int32],
                               batchSize: Int) throws -> ClassifierEvaluation {
        let batches = try ClassificationBatches(sequences: sequences, labels: labels, batchSize: batchSize)
        let (probabilities, loss, _) = try trainer.predict(batches)
        return try ClassifierEvaluation(labels: labels, probabilities: probabilities, loss: loss,
                                        classCount: trainer.parameters.classCount)
    }

    /// `metrics.jsonObject` plus the loss and `extra` fields (split, step, ...).
    public func jsonObject(extra: [String: Any] = [:]) -> [String: Any] {
        var object = metrics.jsonObject
        object["loss"] = loss.isFinite ? loss : NSNull()
        for (k, v) in extra { object[k] = v }
        return object
    }

    /// Writes `jsonObject(extra:)` to `path` (pretty-printed, atomically).
    public func writeJSON(to path: String, extra: [String: Any] = [:]) throws {
        let data = try JSONSerialization.data(withJSONObject: jsonObject(extra: extra), options: [.prettyPrinted, .sortedKeys])
        try OutputFile.write(data, to: path, wanted: "the evaluation results")
    }

    /// Writes `index,label,predicted,p0,p1,...` per sequence (index: position in the split).
    public func writePredictions(to path: String) throws {
        let classes = metrics.classCount
        var text = (["index", "label", "predicted"] + (0 ..< classes).map { "p\($0)" }).joined(separator: ",") + "\n"
        for (i, (label, p)) in zip(labels, probabilities).enumerated() {
            text += "\(i),\(label),\(ClassificationMetrics.argmax(p))"
            for value in p { text += "," + String(format: "%.6g", value) }
            text += "\n"
        }
        try OutputFile.write(text, to: path, wanted: "the predictions")
    }

    /// One line: two classes: `loss 0.4012 | accuracy 0.8231 | FP 0.0900 | FN 0.0869 | recall
    /// 0.8400 | precision 0.8500 | specificity 0.8000 | MCC 0.6455 | AUC 0.9012`; more classes:
    /// `loss 0.4012 | accuracy 0.8231 | MCC 0.6455 | macro F1 0.8210`.
    public var summaryLine: String {
        if let binary = metrics.binary { return String(format: "loss %.4f | ", loss) + binary.summary }
        return String(format: "loss %.4f | accuracy %.4f | MCC %.4f | macro F1 %.4f", loss, metrics.accuracy,
                      metrics.mcc, metrics.macroF1)
    }
}
