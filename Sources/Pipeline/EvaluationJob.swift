import Foundation
import GenomicData
import Logging
import Model
import Parallel
import OutputFiles
import Training

/// `ulmfit evaluate` as a plan and a run: `init` loads the classifier and the split and checks
/// the sizes and layout; `run` scores the split and writes `<split>.json` and
/// `<split>-predictions.csv` to `out` (when given).
public struct EvaluationJob {
    /// The keys `evaluate` reads from a config.
    public static let uses: Set<String> = Set(["data.dataset", "classifier.batch"]
        + ConfigSchema.keys(in: "layout").map(\.path))

    public let modelPath: String
    public let split: DatasetSplit
    public let checkpoint: ClassifierCheckpoint
    public let sequences: [[Int32]]
    public let labels: [Int32]
    public let batch: Int
    public let out: String?
    public let topology: Topology
    public let layout: WorkerLayout

    /// - Parameters:
    ///   - model: a classifier run folder or one of its checkpoints (relative to the working directory).
    ///   - out: the results folder, or nil to print only. Evaluation files sit beside a run's own
    ///     (`test.json` of a classifier run is the same kind of file), so they are replaced.
    public init(config: RunConfig, model: String, split: DatasetSplit, out: String?, logger: Logger) throws {
        try JobChecks.unused(config, uses: Self.uses, command: "evaluate", logger: logger)
        guard let datasetPath = config.data.dataset else {
            throw RunConfigError(source: .builtIn, "give a prepared dataset (--dataset or data.dataset)")
        }
        var files = try JobChecks.inputFiles(config)
        files.addCheckpoints(of: model, role: "--model")
        if let out {
            do {
                try files.checkOutputs(in: out, ["\(split.rawValue).json", "\(split.rawValue)-predictions.csv"], role: "--out")
            } catch let error as FileConflictError {
                throw RunConfigError(source: .flag("--out"), error.message)
            }
            do {
                try OutputFile.checkCanCreateDirectory(out)
            } catch let error as OutputError {
                throw RunConfigError(source: .flag("--out"), error.description)
            }
        }
        (topology, layout) = try JobChecks.planLayout(config)
        modelPath = model
        self.split = split
        self.out = out
        checkpoint = try ClassifierCheckpoint.load(from: model, role: "--model")
        logger.info("--model: \(checkpoint.model.resolution)")
        let encoder = try KmerEncoder(vocabulary: checkpoint.vocabulary())
        let part = try PreparedDataset.load(path: datasetPath)[split]
        guard part.count > 0 else {
            throw config.error("data.dataset", "\(ConfigPath.display(datasetPath)) has no \(split.rawValue) split")
        }
        let data = try EncodedClassificationData.encode(part, split: split, encoder: encoder, source: datasetPath)
        sequences = data.sequences
        labels = data.labels
        batch = max(config.classifierTrainerOptions.batchSize, layout.workerCount)
        let maxLength = max(sequences.map(\.count).max() ?? 1, 1)
        let memory = MemoryEstimate.classifier(parameters: checkpoint.parameters, batch: batch, maxLength: maxLength,
                                               shards: layout.workerCount, workers: layout.workerCount)
        try JobChecks.checkMemory(memory, config, keys: ["classifier.batch"], logger: logger)
    }

    /// Scores the split; prints the metrics (results: standard output) and writes them to `out`.
    public func run(logger: Logger) throws -> ClassifierEvaluation {
        let pool = try WorkerPool(layout: layout, topology: topology)
        let evaluation = try checkpoint.evaluate(sequences: sequences, labels: labels, pool: pool, batchSize: batch)
        print("\(split.rawValue) (\(sequences.count) sequences, step \(checkpoint.model.step)): \(evaluation.summaryLine)")
        print("confusion (rows true, columns predicted): \(evaluation.metrics.confusion)")
        if let out {
            try OutputFile.makeDirectory(out)
            // The model as seen from `out`: a results folder copied elsewhere (or committed) names
            // no path of the machine that made it.
            let model = ConfigPath.relative(ConfigPath.resolve(modelPath), from: ConfigPath.resolve(out))
            try evaluation.writeJSON(to: (out as NSString).appendingPathComponent("\(split.rawValue).json"),
                                     extra: ["split": split.rawValue, "model": model, "step": checkpoint.model.step])
            try evaluation.writePredictions(to: (out as NSString).appendingPathComponent("\(split.rawValue)-predictions.csv"))
            logger.info("wrote \(split.rawValue).json and \(split.rawValue)-predictions.csv to \(ConfigPath.display(out))")
        }
        return evaluation
    }
}
