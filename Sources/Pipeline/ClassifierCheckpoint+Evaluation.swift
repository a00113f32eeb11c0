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
        // The trainer's evaluation path, not ClassifierInference: evaluate reports the loss too.
        let layout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
        // Evaluation takes no step: any plan of the right layout does.
        let plan = try OptimizerPlan(layout: layout, learningRates: .uniform(1e-3), schedule: OneCycleSchedule(totalSteps: 1))
        var options = ClassifierTrainerOptions()
        options.batchSize = max(batchSize, pool.workerCount)
        let trainer = try ClassifierTrainer(config: model.config, classCount: classCount, headHidden: headHidden,
                                            options: options, maxLength: max(sequences.map(\.count).max() ?? 1, 1),
                                            pool: pool, plan: plan, initialParameters: params)
        trainer.statistics.pointer.update(from: statistics, count: statistics.count)
        return try ClassifierEvaluation.measure(trainer, sequences: sequences, labels: labels, batchSize: options.batchSize)
    }
}
