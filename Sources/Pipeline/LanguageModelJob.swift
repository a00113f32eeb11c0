import Foundation
import GenomicData
import Kernels
import Logging
import Model
import Parallel
import Training

/// `ulmfit train-lm` as a plan and a run: `plan` reads the data and checks every setting
/// against it and the machine (sizes, memory, layout, vocabulary, checkpoint, results folder)
/// without writing or allocating anything large; `run` writes the resolved config, the
/// vocabulary and the results. A rejected run leaves no file behind.
public struct LanguageModelJob: CheckedJob {
    /// The keys `train-lm` reads (others in a config file are noted and left alone).
    public static let uses: Set<String> = Set(
        ["data.fasta", "data.dataset", "data.vocab", "data.init_from", "data.k", "data.stride", "data.max_bases",
         "data.valid_fraction", "data.lm_splits", "out"]
            + (ConfigSchema.keys(in: "model") + ConfigSchema.keys(in: "training") + ConfigSchema.keys(in: "checkpoint")
                + ConfigSchema.keys(in: "layout")).map(\.path))

    /// The settings as given (defaults not yet filled in) and where each came from.
    public let config: RunConfig
    /// Every setting the run uses, defaults and planned layout included: what `config.yaml` holds.
    public let resolved: RunConfig
    /// The keys written to `config.yaml`.
    public let resolvedKeys: [ConfigKey]
    public let out: String
    public let vocabulary: Vocabulary
    public let corpus: LanguageModelCorpus
    /// Sizes and base dropouts (the run scales them by `model.drop_mult`).
    public let modelConfig: AWDLSTMConfig
    public let initialParameters: [Float]?
    public let trainerOptions: LanguageModelTrainerOptions
    public let runOptions: LanguageModelRunOptions
    public let topology: Topology
    public let layout: WorkerLayout
    public let memory: MemoryEstimate
    /// The checkpoint a resumed run continues from.
    public let resume: ResumePoint?

    /// Checks everything and reads the data; writes nothing.
    /// - Parameters:
    ///   - config: the settings; when resuming, resolved over the checkpoint's recorded ones
    ///     (`RunConfig.resolve(file:overrides:resumed:)`).
    ///   - resume: continue this run (`--resume`): its folder, vocabulary and weights; settings
    ///     given must not contradict the recorded ones (data paths, layout and checkpoint
    ///     options may change).
    ///   - defaultOut: the results folder when `out` is not set.
    ///   - node: this process's part of the machine, when a launcher put several processes of a
    ///     job on it (`NodeShare`); the layout is planned within it.
    public init(config: RunConfig, resume: ResumePoint? = nil, defaultOut: String = "runs/lm", mode: RunFolder.Mode,
                node: NodeShare = .whole, logger: Logger) throws {
        self.config = config
        self.resume = resume
        try JobChecks.unused(config, uses: Self.uses, command: "train-lm", logger: logger)
        let d = config.data
        if d.fasta != nil && d.dataset != nil {
            throw config.error("data.dataset", "train-lm trains on one input, but data.fasta (\(config.source(of: "data.fasta"))) "
                + "and data.dataset are both set: choose one (--fasta or --dataset replaces the other)")
        }
        guard d.fasta != nil || d.dataset != nil else {
            throw RunConfigError(source: .builtIn, "give genome FASTA files (--fasta or data.fasta) or a prepared dataset "
                + "(--dataset or data.dataset)")
        }
        _ = try JobChecks.inputFiles(config)
        // With a dataset, valid_fraction is the held-out share of train+valid; it does not apply to a
        // dataset's own train/valid split.
        let heldOut = d.dataset != nil && config.dataOptions.lmSplits == .trainAndValid
        if d.dataset != nil {
            try JobChecks.refuse(["data.max_bases"] + (heldOut ? [] : ["data.valid_fraction"]), besides: "data.dataset",
                                 in: config, because: "is split into train and valid already")
        } else {
            try JobChecks.refuse(["data.lm_splits"], besides: "data.fasta", in: config,
                                 because: "is a genome, not a prepared dataset with splits")
        }
        var keys = ConfigSchema.keys.filter { Self.uses.contains($0.path) }
        let omitted = Set(d.dataset != nil ? ["data.fasta", "data.max_bases"] + (heldOut ? [] : ["data.valid_fraction"])
                                           : ["data.dataset", "data.lm_splits"])
            .union(d.initFrom != nil ? ["data.vocab", "data.k", "data.stride", "model.emb", "model.hidden", "model.layers"]
                                     : ["data.init_from"])
        keys.removeAll { omitted.contains($0.path) }
        resolvedKeys = keys
        if let resume {
            try JobChecks.checkResume(resume, config: config, keys: keys)
        } else if d.initFrom != nil {
            try JobChecks.refuse(["data.vocab", "data.k", "data.stride", "model.emb", "model.hidden", "model.layers"],
                                 besides: "data.init_from", in: config, because: "brings its vocabulary and model sizes")
        }
        out = try resume.map { try JobChecks.resumedOut($0, config: config) } ?? config.out ?? ConfigPath.resolve(defaultOut)
        try RunFolder.check(out, source: config.source(of: "out"), mode: resume == nil ? mode : .resume)
        (topology, layout) = try JobChecks.planLayout(config, node: node)
        trainerOptions = config.languageModelTrainerOptions
        var runOptions = config.languageModelRunOptions(out: ConfigPath.display(out))
        runOptions.showProgress = logger.logLevel <= .info

        // The vocabulary and model shape: from the starting checkpoint, a vocabulary file, or the data.
        var initial: ModelCheckpoint?
        let vocabulary: Vocabulary
        if let resume {
            vocabulary = try resume.vocabulary()
        } else if let path = d.initFrom {
            initial = try JobChecks.loadLanguageModel(path, key: "data.init_from", in: config, logger: logger)
            vocabulary = try initial!.vocabulary()
        } else if d.vocab != nil {
            vocabulary = try JobChecks.loadVocabulary(config)
        } else {
            vocabulary = try Self.buildVocabulary(config, logger: logger)
        }
        self.vocabulary = vocabulary
        let encoder = try JobChecks.naming("data.k", in: config) { try KmerEncoder(vocabulary: vocabulary) }
        let data = config.dataOptions
        if let dataset = d.dataset {
            corpus = try LanguageModelCorpus.fromPreparedDataset(path: dataset, encoder: encoder, splits: data.lmSplits,
                                                                 validFraction: data.validFraction, seed: trainerOptions.seed)
        } else {
            corpus = try LanguageModelCorpus.fromFasta(paths: d.fasta!, encoder: encoder, validFraction: data.validFraction,
                                                       seed: trainerOptions.seed, maxBases: data.maxBases)
        }
        corpus.summaries.forEach { logger.info("\($0)") }
        if corpus.validTokens == 0 {
            // No validation data: refused when validation was asked for, said out loud otherwise.
            let why = data.validFraction == 0 ? "data.valid_fraction is 0 (\(config.source(of: "data.valid_fraction")))"
                : "no chunk of the data drew validation at data.valid_fraction \(data.validFraction) (too little data?)"
            if config.sources["training.eval_every"] != nil {
                throw config.error("training.eval_every", "validation every \(config.training.evalEvery ?? 0) steps needs "
                    + "validation data, but \(why): remove training.eval_every or hold data out")
            }
            logger.warning("the run has no validation data: \(why)")
        }
        let modelConfig: AWDLSTMConfig
        if let resume {
            // The run's sizes with fastai's base dropouts: model.drop_mult (recorded) scales them as before.
            let c = resume.shape.config
            modelConfig = AWDLSTMConfig(vocabSize: c.vocabSize, embeddingSize: c.embeddingSize, hiddenSize: c.hiddenSize,
                                        layerCount: c.layerCount)
            initialParameters = nil
        } else if let initial {
            // The checkpoint's sizes with fastai's base dropouts: model.drop_mult scales them afresh.
            let c = initial.config
            modelConfig = AWDLSTMConfig(vocabSize: c.vocabSize, embeddingSize: c.embeddingSize, hiddenSize: c.hiddenSize,
                                        layerCount: c.layerCount)
            try initial.validate(against: LanguageModelParameters(config: modelConfig).layout)
            initialParameters = initial.params
        } else {
            modelConfig = config.languageModelConfig(vocabSize: vocabulary.count)
            initialParameters = nil
        }
        self.modelConfig = modelConfig
        let dropMult = runOptions.dropMult
        try JobChecks.naming("model.drop_mult", in: config) { try modelConfig.scaled(dropMult: dropMult).validate() }

        // Sizes against the data, then against the machine: before anything large is allocated.
        let (memory, steps) = try Self.checkSizes(config, corpus: corpus, modelConfig: modelConfig,
                                                  workers: layout.workerCount, logger: logger)
        self.memory = memory
        let schedule = runOptions
        _ = try JobChecks.naming("training.lr", in: config) {
            let parameters = LanguageModelParameters(config: modelConfig)
            return try OptimizerPlan(layout: OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder),
                                     learningRates: .uniform(schedule.learningRate),
                                     schedule: OneCycleSchedule(totalSteps: steps, pctStart: schedule.pctStart),
                                     weightDecay: schedule.weightDecay, maxGradNorm: schedule.maxGradNorm)
        }
        self.runOptions = runOptions

        var resolved = JobChecks.resolved(config, keys: keys, layout: layout)
        resolved.out = out
        self.resolved = resolved
    }

    /// Writes the resolved config and the vocabulary, then trains (or continues training).
    /// `summary.json`, written last, marks a finished run.
    /// - Parameters:
    ///   - stop: checked every step; once set, the run writes a checkpoint and throws
    ///     `RunInterrupted`.
    ///   - group: the job's processes (mpirun, srun): each planned the same job; they check that
    ///     they agree before rank 0 alone writes anything, then train together.
    public func run(mode: RunFolder.Mode, stop: StopRequest? = nil, group: ProcessGroup = SingleProcess(),
                    command: String = "ulmfit train-lm", logger: Logger) throws -> LanguageModelRunSummary {
        let (pool, lock) = try start(section: "training", batch: trainerOptions.batchSize,
                             deterministicShards: trainerOptions.deterministicShards,
                             data: DataFingerprint(items: corpus.train), mode: mode, group: group, command: command, logger: logger)
        defer { lock?.release() }   // held while the run writes: one writer per folder
        var options = runOptions
        options.runConfig = resolved.json(keys: resolvedKeys)
        let summary = try replacingPrevious(group: group, logger: logger) {
            try runLanguageModel(corpus: corpus, vocabulary: vocabulary, config: modelConfig,
                                 trainerOptions: trainerOptions, options: options, pool: pool,
                                 initialParameters: initialParameters, resume: resume, stop: stop,
                                 group: group, log: { logger.info("\($0)") })
        }
        var fields: [String: Any] = ["command": command, "steps": summary.steps, "tokens": summary.tokens,
                                     "seconds": summary.seconds, "tokens_per_s": summary.tokensPerSecond]
        if let last = summary.validation.last {
            fields["valid_loss"] = last.loss.isFinite ? last.loss : NSNull()
            fields["valid_accuracy"] = last.accuracy.isFinite ? last.accuracy : NSNull()
        }
        if group.isPrimary { try JobChecks.writeSummary(fields, to: out) }
        return summary
    }

    /// Checks the batch and BPTT window against the corpus (tokens per stream), the shards against
    /// the workers, and the estimated memory against the machine's; returns the estimate and the
    /// number of optimizer steps. (`ulmfit run` also calls it before any stage runs.)
    public static func checkSizes(_ config: RunConfig, corpus: LanguageModelCorpus, modelConfig: AWDLSTMConfig,
                                  workers: Int, logger: Logger) throws -> (memory: MemoryEstimate, steps: Int) {
        let trainer = config.languageModelTrainerOptions, run = config.languageModelRunOptions(out: "")
        let (B, T) = (trainer.batchSize, trainer.bptt)
        let tokens = corpus.trainTokens, streamLength = (tokens - 1) / B
        if streamLength < T {
            // Name the setting the user gave last (an option before a file line before a default).
            func rank(_ key: String) -> Int {
                switch config.source(of: key) { case .flag: return 2; case .file: return 1; case .builtIn: return 0 }
            }
            let primary = rank("training.bptt") > rank("training.batch") || T >= tokens ? "training.bptt" : "training.batch"
            let other = primary == "training.bptt" ? "training.batch" : "training.bptt"
            let fits = [(tokens - 1) / T >= 1 ? "at most batch \((tokens - 1) / T) with bptt \(T)" : nil,
                        streamLength >= 1 ? "at most bptt \(streamLength) with batch \(B)" : nil].compactMap { $0 }
            throw config.error(primary, "batch \(B) x bptt \(T) does not fit the data (\(other) from "
                + "\(config.source(of: other))): \(tokens) train tokens in \(B) streams give \(streamLength) tokens per "
                + "stream, fewer than one window of \(T)" + (fits.isEmpty ? "" : "; use " + fits.joined(separator: ", or ")))
        }
        if corpus.validTokens > 0 && (corpus.validTokens - 1) / B < 1 {
            logger.warning("\(corpus.validTokens) validation tokens are too few for \(B) streams: validation is skipped")
        }
        let shards = try JobChecks.shardCount(config, section: "training", batch: B,
                                              deterministicShards: trainer.deterministicShards, workers: workers)
        let memory = MemoryEstimate.languageModel(config: modelConfig, batch: B, bptt: T, shards: shards, workers: workers)
        try JobChecks.checkMemory(memory, config, keys: ["training.batch", "training.bptt"], logger: logger)
        let windows = (streamLength + T - 1) / T
        let steps = try JobChecks.plannedSteps(config, epochsKey: "training.epochs", epochs: run.epochs,
                                               stepsPerEpoch: windows, maxSteps: run.maxSteps)
        return (memory, steps)
    }

    /// Counts k-mers of the training input (FASTA, or the dataset's train split) into a vocabulary.
    static func buildVocabulary(_ config: RunConfig, logger: Logger) throws -> Vocabulary {
        var counter = try JobChecks.counter(config, logger: logger)
        if let dataset = config.data.dataset {
            for sequence in try PreparedDataset.load(path: dataset)[.train].sequences { counter.add(sequence) }
        } else {
            let maxBases = config.dataOptions.maxBases ?? .max
            var bases = 0
            for path in config.data.fasta ?? [] where bases < maxBases {
                let before = bases
                let summary = try FastaReader(path: path, policy: .splitAtNonACGT(minLength: 1)).forEachRecord { record in
                    guard bases < maxBases else { return }
                    counter.add(Array(record.sequence.prefix(maxBases - bases)))
                    bases += record.sequence.count
                }
                if bases == before {   // named here, not later as "no k-mers" of all the files together
                    throw DataError(file: path, "no usable sequence: \(summary.records) records, none with A/C/G/T bases "
                                    + "(headers only, or only N?)")
                }
            }
        }
        return try counter.vocabulary()
    }
}
