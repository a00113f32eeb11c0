import GenomicData
import Parallel
import Training

/// What `ulmfit predict` and `ulmfit scan` ask of a trained classifier: the class probabilities
/// of token sequences. One small interface, so that the engine behind it can change (today the
/// data-parallel trainer's evaluation path; a forward-only inference engine can take its place)
/// without touching predict or scan. Get one from `ClassifierCheckpoint.sequenceClassifier`.
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
        try EvaluationClassifier(checkpoint: self, pool: pool, maxLength: maxLength, batchSize: batchSize)
    }
}

/// `SequenceClassifier` on `ClassifierTrainer.predict`: evaluation mode (no dropout, BatchNorm
/// running statistics), each batch's sequences split over the workers.
final class EvaluationClassifier: SequenceClassifier {
    let trainer: ClassifierTrainer
    let batchSize: Int
    var classCount: Int { trainer.parameters.classCount }
    var maxLength: Int { trainer.maxLength }

    init(checkpoint: ClassifierCheckpoint, pool: WorkerPool, maxLength: Int, batchSize: Int) throws {
        let parameters = checkpoint.parameters
        let layout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
        // Evaluation takes no step: any plan of the right layout does.
        let plan = try OptimizerPlan(layout: layout, learningRates: .uniform(1e-3), schedule: OneCycleSchedule(totalSteps: 1))
        var options = ClassifierTrainerOptions()
        options.batchSize = max(batchSize, pool.workerCount)
        self.batchSize = options.batchSize
        trainer = try ClassifierTrainer(config: checkpoint.model.config, classCount: checkpoint.classCount,
                                        headHidden: checkpoint.headHidden, options: options, maxLength: max(maxLength, 1),
                                        pool: pool, plan: plan, initialParameters: checkpoint.params)
        trainer.statistics.pointer.update(from: checkpoint.statistics, count: checkpoint.statistics.count)
    }

    func probabilities(_ sequences: [[Int32]]) throws -> [[Float]] {
        guard !sequences.isEmpty else { return [] }
        // The labels only feed the loss and accuracy that predict also returns; unused here.
        let batches = try ClassificationBatches(sequences: sequences, labels: [Int32](repeating: 0, count: sequences.count),
                                                batchSize: batchSize)
        return try trainer.predict(batches).probabilities
    }
}
