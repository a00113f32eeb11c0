import GenomicData
import Parallel
import Training

/// What `ulmfit predict` and `ulmfit scan` ask of a trained classifier: the class probabilities
/// of token sequences. One small interface, so that the engine behind it can change (today
/// `ClassifierInference`) without touching predict or scan. Get one from `ClassifierCheckpoint.sequenceClassifier`.
public protocol SequenceClassifier: AnyObject {
    var classCount: Int { get }
    /// The longest token sequence `probabilities` accepts.
    var maxLength: Int { get }
    /// Class probabilities of each sequence (1...maxLength tokens each), in order; any number of
    /// sequences (batched inside).
    func probabilities(_ sequences: [[Int32]]) throws -> [[Float]]
}

extension ClassifierCheckpoint {
    /// The saved classifier ready to score sequences of up to `maxLength` tokens on `pool`'s
    /// workers, `batchSize` at a time: the one place predict and scan get their engine.
    public func sequenceClassifier(pool: WorkerPool, maxLength: Int, batchSize: Int = 64) throws -> SequenceClassifier {
        try ClassifierInference(parameters: parameters, params: params, statistics: statistics, pool: pool,
                                batchSize: batchSize, maxLength: max(maxLength, 1))
    }
}

/// Forward only, every worker on its own whole batches (no gradient buffers, no reduce).
extension ClassifierInference: SequenceClassifier {}
