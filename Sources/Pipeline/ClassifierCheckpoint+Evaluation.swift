import GenomicData
import Model
import Parallel
import Training

extension ClassifierCheckpoint {
    /// The vocabulary the classifier was trained with.
    public func vocabulary() throws -> Vocabulary {
        try Vocabulary(kmers: Array(model.vocabularyTokens.dropFirst(Vocabulary.specialTokens.count)),
                       k: model.k, stride: model.stride)
    }

    /// Evaluates the saved classifier (no dropout, its BatchNorm running statistics) on
    /// `sequences` with the data-parallel trainer's workers.
    /// - Throws: `MetricsError` for a label outside the classifier's classes.
    public func evaluate(sequences: [[Int32]], labels: [Int32], pool: WorkerPool,
                         batchSize: Int = 64) throws -> ClassifierEvaluation {
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw MetricsError("sequence \(bad) has label \(labels[bad]), but the classifier knows classes 0..<\(classCount)")
        }
        let classifier = try EvaluationClassifier(checkpoint: self, pool: pool,
                                                  maxLength: sequences.map(\.count).max() ?? 1, batchSize: batchSize)
        return try ClassifierEvaluation.measure(classifier.trainer, sequences: sequences, labels: labels,
                                                batchSize: classifier.batchSize)
    }
}
