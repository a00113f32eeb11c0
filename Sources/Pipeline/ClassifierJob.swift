import Foundation
import GenomicData
import Kernels
import Logging
import Model
import Parallel
import Training

/// `ulmfit train-classifier` as a plan and a run (see `LanguageModelJob`): `init` checks every
/// setting against the dataset, the encoder checkpoint and the machine, writing nothing; `run`
/// writes the resolved config and vocabulary, trains, evaluates on the test split.
public struct ClassifierJob: CheckedJob {
    /// The keys `train-classifier` reads.
    public static let uses: Set<String> = Set(
        ["data.dataset", "data.encoder", "data.vocab", "data.k", "data.stride", "model.emb", "model.hidden", "model.layers", "out"]
            + (ConfigSchema.keys(in: "classifier") + ConfigSchema.keys(in: "checkpoint")
                + ConfigSchema.keys(in: "layout")).map(\.path))

    public let config: RunConfig
    public let resolved: RunConfig
    public let resolvedKeys: [ConfigKey]
    public let out: String
    public let vocabulary: Vocabulary
    public let data: EncodedClassificationData
    /// Sizes and fastai's classifier dropouts (the run scales them by `classifier.drop_mult`).
    public let modelConfig: AWDLSTMConfig
    public let initialParameters: [Float]?
    public let trainerOptions: ClassifierTrainerOptions
    public let runOptions: ClassifierRunOptions
    public let topology: Topology
    public let layout: WorkerLayout
    public let memory: MemoryEstimate
    /// The checkpoint a resumed run continues from.
    public let resume: ResumePoint?

    /// Checks everything and reads the data; writes nothing. `resume`, `node`: see `LanguageModelJob`.
    public init(config: RunConfig, resume: ResumePoint? = nil, defaultOut: String = "runs/classifier",
                mode: RunFolder.Mode, node: NodeShare = .whole, logger: Logger) throws {
        self.config = config
        self.resume = resume
        try JobChecks.unused(config, uses: Self.uses, command: "train-classifier", logger: logger)
        guard let datasetPath = config.data.dataset else {
            throw RunConfigError(source: .builtIn, "give a prepared dataset (--dataset or data.dataset; see ulmfit prepare)")
        }
        _ = try JobChecks.inputFiles(config)
        var keys = ConfigSchema.keys.filter { Self.uses.contains($0.path) }
        let omitted: Set<String> = config.data.encoder != nil
            ? ["data.vocab", "data.k", "data.stride", "model.emb", "model.hidden", "model.layers"] : ["data.encoder"]
        keys.removeAll { omitted.contains($0.path) }
        resolvedKeys = keys
        if let resume {
            try JobChecks.checkResume(resume, config: config, keys: keys)
        } else if config.data.encoder != nil {
            try JobChecks.refuse(["data.vocab", "data.k", "data.stride", "model.emb", "model.hidden", "model.layers"],
                                 besides: "data.encoder", in: config, because: "brings its vocabulary and model sizes")
        }
        out = try resume.map { try JobChecks.resumedOut($0, config: config) } ?? config.out ?? ConfigPath.resolve(defaultOut)
        try RunFolder.check(out, source: config.source(of: "out"), mode: resume == nil ? mode : .resume)
        (topology, layout) = try JobChecks.planLayout(config, node: node)
        let trainerOptions = config.classifierTrainerOptions
        self.trainerOptions = trainerOptions
        var runOptions = config.classifierRunOptions(out: ConfigPath.display(out))
        runOptions.showProgress = logger.logLevel <= .info
        self.runOptions = runOptions

        let prepared = try PreparedDataset.load(path: datasetPath)
        logger.info("dataset: \(prepared)")
        var checkpoint: ModelCheckpoint?
        let vocabulary: Vocabulary
        if let resume {
            vocabulary = try resume.vocabulary()
        } else if let path = config.data.encoder {
            checkpoint = try JobChecks.loadLanguageModel(path, key: "data.encoder", in: config, logger: logger)
            vocabulary = try checkpoint!.vocabulary()
        } else if config.data.vocab != nil {
            vocabulary = try JobChecks.loadVocabulary(config)
        } else {
            var counter = try JobChecks.counter(config, logger: logger)
            for sequence in prepared[.train].sequences { counter.add(sequence) }
            vocabulary = try counter.vocabulary()
        }
        self.vocabulary = vocabulary
        let encoder = try JobChecks.naming("data.k", in: config) { try KmerEncoder(vocabulary: vocabulary) }
        let data = try EncodedClassificationData(dataset: prepared, encoder: encoder, source: datasetPath)
        data.warnings.forEach { logger.warning("\($0)") }
        self.data = data
        // Sizes with fastai's base classifier dropouts (classifier.drop_mult scales them in the run):
        // from the resumed run, the encoder's language model, or the settings.
        let modelConfig = resume.map { r in
            AWDLSTMConfig.classifier(vocabSize: r.shape.config.vocabSize, embeddingSize: r.shape.config.embeddingSize,
                                     hiddenSize: r.shape.config.hiddenSize, layerCount: r.shape.config.layerCount)
        } ?? checkpoint.map { EncoderTransfer.classifierConfig(of: $0, dropMult: 1) }
            ?? config.classifierConfig(vocabSize: vocabulary.count)
        self.modelConfig = modelConfig
        let dropMult = runOptions.dropMult
        try JobChecks.naming("classifier.drop_mult", in: config) { try modelConfig.scaled(dropMult: dropMult).validate() }

        // Sizes against the data, then against the machine.
        let memory = try Self.checkSizes(config, data: data, modelConfig: modelConfig, dataset: datasetPath,
                                         workers: layout.workerCount, logger: logger)
        self.memory = memory
        let parameters = ClassifierParameters(config: modelConfig, classCount: data.classCount)
        let optimizerLayout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
        for stage in runOptions.stages {
            _ = try JobChecks.naming("classifier.lr", in: config) {
                try OptimizerPlan(layout: optimizerLayout, learningRates: stage.learningRates,
                                  schedule: OneCycleSchedule(totalSteps: 1, pctStart: runOptions.pctStart),
                                  weightDecay: runOptions.weightDecay, maxGradNorm: runOptions.maxGradNorm)
            }
        }
        if resume == nil, let header = checkpoint {
            let (values, copied) = try EncoderTransfer.initialParameters(for: parameters, seed: trainerOptions.seed,
                                                                         checkpoint: header)
            initialParameters = values
            let source = "\(ConfigPath.display(header.path)) (\(header.kind.rawValue), step \(header.step))"
            logger.info("encoder: \(copied.count) tensors from \(source)")
        } else {
            initialParameters = nil
        }

        var resolved = JobChecks.resolved(config, keys: keys, layout: layout)
        resolved.classifier.stages = config.classifierRecipe
        resolved.out = out
        self.resolved = resolved
    }

    /// Checks the batch against the train split, the shards against the workers, and the
    /// estimated memory against the machine's. (`ulmfit run` also calls it before any stage runs.)
    public static func checkSizes(_ config: RunConfig, data: EncodedClassificationData, modelConfig: AWDLSTMConfig,
                                  dataset: String, workers: Int, logger: Logger) throws -> MemoryEstimate {
        let trainer = config.classifierTrainerOptions
        let B = trainer.batchSize, trainCount = data[.train].sequences.count
        guard trainCount >= B else {
            throw config.error("classifier.batch", "the train split of \(ConfigPath.display(dataset)) has \(trainCount) "
                + "sequences, fewer than one batch of \(B): use a batch of at most \(max(trainCount, 1))")
        }
        let run = config.classifierRunOptions(out: "")
        for stage in run.stages {
            _ = try JobChecks.plannedSteps(config, epochsKey: "classifier.epochs", epochs: stage.epochs,
                                           stepsPerEpoch: trainCount / B, maxSteps: run.maxStepsPerStage)
        }
        let shards = try JobChecks.shardCount(config, section: "classifier", batch: B,
                                              deterministicShards: trainer.deterministicShards, workers: workers)
        let parameters = ClassifierParameters(config: modelConfig, classCount: data.classCount)
        let memory = MemoryEstimate.classifier(parameters: parameters, batch: B, maxLength: data.maxLength, shards: shards,
                                               workers: workers)
        try JobChecks.checkMemory(memory, config, keys: ["classifier.batch"], logger: logger)
        return memory
    }

    /// Writes the resolved config and the vocabulary, trains, tests; `summary.json` last.
    /// `group`: see `LanguageModelJob.run` (rank 0 alone writes).
    public func run(mode: RunFolder.Mode, stop: StopRequest? = nil, group: ProcessGroup = SingleProcess(),
                    command: String = "ulmfit train-classifier", logger: Logger) throws -> ClassifierRunSummary {
        let (pool, lock) = try start(section: "classifier", batch: trainerOptions.batchSize,
                             deterministicShards: trainerOptions.deterministicShards,
                             data: DataFingerprint(items: data[.train].sequences, labels: data[.train].labels), mode: mode, group: group, command: command, logger: logger)
        defer { lock?.release() }   // held while the run writes: one writer per folder
        var options = runOptions
        options.runConfig = resolved.json(keys: resolvedKeys)
        let summary = try replacingPrevious(group: group, logger: logger) {
            try runClassifier(data: data, vocabulary: vocabulary, config: modelConfig,
                              trainerOptions: trainerOptions, options: options, pool: pool,
                              initialParameters: initialParameters, resume: resume, stop: stop,
                              group: group, log: { logger.info("\($0)") })
        }
        var fields: [String: Any] = ["command": command, "steps": summary.steps, "sequences": summary.sequences,
                                     "seconds": summary.seconds]
        if let v = summary.validation.last?.evaluation {
            fields["valid_accuracy"] = v.metrics.accuracy
            fields["valid_mcc"] = v.metrics.mcc.isFinite ? v.metrics.mcc : NSNull()
        }
        if let t = summary.test {
            fields["test_accuracy"] = t.metrics.accuracy
            fields["test_mcc"] = t.metrics.mcc.isFinite ? t.metrics.mcc : NSNull()
        }
        if group.isPrimary { try JobChecks.writeSummary(fields, to: out) }
        return summary
    }
}
