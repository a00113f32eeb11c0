import Foundation
import GenomicData
import Logging
import Model
import OutputFiles

/// `ulmfit run`: every stage of the method in order, into one run folder:
///
///     RUN/config.yaml   the resolved pipeline config (`ulmfit run --config RUN/config.yaml` repeats it)
///     RUN/data/         prepare: dataset.csv from data.csv or data.positive/negative (skipped with data.dataset)
///     RUN/pretrain/     train-lm on data.fasta with `training:`
///     RUN/finetune/     train-lm on the dataset's train split from pretrain/, with `finetune:` over `training:`
///     RUN/classifier/   train-classifier from finetune/ with `classifier:`
///     RUN/test/         evaluate classifier/model on the test split
///
/// Each stage folder holds a run of its own (with its own resolved `config.yaml`). A stage whose
/// outputs are complete (its `summary.json` written last, its last checkpoint loadable) and whose resolved
/// config equals what would run now is skipped; otherwise it is run, and the reason is logged.
/// Once a stage runs, every later one runs too (its input changed).
public struct PipelineJob {
    /// The stages, in order; the raw value is the stage's folder.
    public enum Stage: String, CaseIterable, Sendable {
        case prepare = "data", pretrain, finetune, classifier, test
    }

    /// The keys of a prepare stage's config.
    static let prepareKeys = ["data.csv", "data.positive", "data.negative", "data.split_seed", "out"]

    public let config: RunConfig
    public let out: String
    public let mode: RunFolder.Mode
    /// The source given to values `run` sets itself (stage inputs and folders).
    static let pipelineSource = SettingSource.flag("ulmfit run")

    /// Checks the pipeline config as a whole (inputs, settings `run` sets itself, the run folder);
    /// each stage is planned in full (data, sizes, memory) just before it runs.
    public init(config: RunConfig, defaultOut: String = "runs/main", mode: RunFolder.Mode, logger: Logger) throws {
        self.config = config
        self.mode = mode
        let d = config.data
        guard d.fasta != nil else {
            throw RunConfigError(source: .builtIn, "give the pretraining genomes (data.fasta)")
        }
        let raw = ["data.csv", "data.positive", "data.negative"].filter { config.sources[$0] != nil }
        if d.dataset != nil, let first = raw.first {
            throw config.error(first, "give a prepared dataset (data.dataset, \(config.source(of: "data.dataset"))) or "
                + "files to prepare (\(raw.joined(separator: ", "))), not both")
        }
        guard d.dataset != nil || !raw.isEmpty else {
            throw RunConfigError(source: .builtIn, "give the classification data: data.csv, or data.positive and "
                + "data.negative (prepared into RUN/data/dataset.csv), or a prepared data.dataset")
        }
        if (d.positive == nil) != (d.negative == nil) {
            throw config.error(d.positive == nil ? "data.negative" : "data.positive",
                               "data.positive and data.negative go together")
        }
        for key in ["data.init_from", "data.encoder"] where config.sources[key] != nil {
            throw config.error(key, "ulmfit run sets \(key) itself (to the previous stage's model): remove it")
        }
        _ = try JobChecks.inputFiles(config)
        out = config.out ?? ConfigPath.resolve(defaultOut)
        try Self.checkFolder(out, config: config, mode: mode)
    }

    /// A folder holding a previous pipeline run is resumed; one holding any other run is refused
    /// unless overwriting.
    static func checkFolder(_ out: String, config: RunConfig, mode: RunFolder.Mode) throws {
        let entries = RunFolder.existingRunEntries(out)
        let stages = Set(Stage.allCases.map(\.rawValue) + ["config.yaml", "summary.json"])
        if mode == .fresh && !entries.isEmpty && (!entries.allSatisfy(stages.contains) || !isPipelineRun(out)) {
            throw RunConfigError(source: config.source(of: "out"), key: "out", "\(ConfigPath.display(out)) holds another "
                + "run (\(entries.joined(separator: ", "))): choose another folder, or pass --overwrite to replace it")
        }
        try RunFolder.check(out, source: config.source(of: "out"), mode: .overwrite)
    }

    /// Whether `folder/config.yaml` was written by `ulmfit run`.
    static func isPipelineRun(_ folder: String) -> Bool {
        let path = (folder as NSString).appendingPathComponent("config.yaml")
        return (try? String(contentsOfFile: path, encoding: .utf8))?.hasPrefix(header.split(separator: "\n")[0].description) ?? false
    }

    static let header = "# The resolved settings of an `ulmfit run` pipeline (every value, and where it came from).\n"

    /// The pipeline's resolved config: everything set, finetune written out in full.
    func resolvedPipelineConfig(workers: Int?) -> RunConfig {
        var c = config.filled(ConfigSchema.keys.filter { $0.section != "finetune" })
        let fine = config.fineTuning.filled(ConfigSchema.keys(in: "training"))
        for (t, f) in zip(ConfigSchema.keys(in: "training"), ConfigSchema.keys(in: "finetune")) {
            f.set(&c, t.get(fine))
            c.sources[f.path] = fine.sources[t.path]
        }
        if c.layout.workers == nil { c.layout.workers = workers }
        c.classifier.stages = c.classifier.stages ?? .ulmfit
        c.out = out
        return c
    }

    /// The keys a pipeline config writes: all of them, without the ones `run` sets per stage.
    var pipelineKeys: [ConfigKey] {
        let inputs: Set<String> = config.data.dataset != nil
            ? ["data.csv", "data.positive", "data.negative", "data.split_seed"] : ["data.dataset"]
        return ConfigSchema.keys.filter { !inputs.contains($0.path) && !["data.init_from", "data.encoder"].contains($0.path) }
    }

    /// What `run` does with a stage.
    enum Decision: Equatable {
        case skip, run
        case resume(ResumePoint)

        static func == (a: Decision, b: Decision) -> Bool {
            switch (a, b) {
            case (.skip, .skip), (.run, .run): return true
            case let (.resume(x), .resume(y)): return x.checkpoint.path == y.checkpoint.path
            default: return false
            }
        }
    }

    /// Runs (or skips, or resumes) every stage; returns the results on the test split.
    /// - Parameter stop: passed to every training stage (SIGINT/SIGTERM: the stage writes a
    ///   checkpoint and throws `RunInterrupted`; the next `ulmfit run` resumes it).
    @discardableResult
    public func run(stop: StopRequest? = nil, logger: Logger) throws -> TestResult {
        let (_, layout) = try JobChecks.planLayout(config)
        // Everything that can be checked before the first stage runs is, before anything is written:
        // the dataset (prepared in memory), the pretraining plan (data, vocabulary, sizes, memory),
        // and the later stages' sizes against that dataset and model.
        let (datasetPath, prepared, preparation) = try inputDataset(logger: logger)
        let pretrain = try LanguageModelJob(config: stageConfig(.pretrain, dataset: datasetPath), mode: .overwrite, logger: logger)
        try preflight(prepared, datasetPath: datasetPath, pretrain: pretrain, workers: layout.workerCount, logger: logger)

        let lock = try RunFolder.prepare(out, mode: mode == .overwrite ? .overwrite : .fresh)
        var finished = false
        defer {
            // --overwrite set the previous pipeline aside: put it back if no stage got as far as a checkpoint.
            if !finished, !Stage.allCases.contains(where: { RunFolder.hasCheckpoint(path($0.rawValue)) }),
               RunFolder.restoreReplaced(out) {
                let note = "the run failed before its first checkpoint: the previous run in \(ConfigPath.display(out)) "
                    + "was put back (--overwrite replaces it only once the new run has a checkpoint)"
                logger.warning("\(note)")
            }
            lock.release()
        }
        let resolved = resolvedPipelineConfig(workers: layout.workerCount)
        try resolved.write(keys: pipelineKeys, to: path("config.yaml"),
                           header: String(Self.header.dropFirst(2).dropLast()) + "\n"
                               + "Repeat or resume it with: ulmfit run --config THIS_FILE")
        var rerun: Stage?   // the first stage run in this invocation: every later one runs too
        /// Skip a complete stage, resume one that stopped (same settings, a checkpoint to continue
        /// from: training stages), run it otherwise; says which and why.
        func decide(_ stage: Stage, planned: RunConfig, kind: ModelCheckpoint.Kind? = nil,
                    complete: () -> Bool) -> Decision {
            let folder = path(stage.rawValue)
            var reason: String?
            if !FileManager.default.fileExists(atPath: folder) {
                reason = "not run yet"
            } else if let rerun {
                reason = "its input (\(rerun.rawValue)) was just run"
            } else if let previous = try? RunConfig.load(path: (folder as NSString).appendingPathComponent("config.yaml")) {
                let changed = Self.differences(previous, planned)
                if !changed.isEmpty {
                    reason = "settings changed: " + changed.joined(separator: "; ")
                } else if !complete() {
                    if let kind, let point = try? ResumePoint.open(folder, expecting: kind) {
                        logger.info("== \(stage.rawValue): resuming (its last run stopped; \(point.resolution))")
                        rerun = stage
                        return .resume(point)
                    }
                    reason = "its last run did not finish"
                }
            } else {
                reason = "its last run did not finish"
            }
            if let reason {
                logger.info("== \(stage.rawValue): running (\(reason))")
                rerun = rerun ?? stage
                return .run
            }
            logger.info("== \(stage.rawValue): complete, skipped (\(ConfigPath.display(folder)))")
            return .skip
        }

        // 1. prepare
        if let preparation {
            let stage = prepareConfig()
            if decide(.prepare, planned: stage, complete: { Self.prepared(path("data"), dataset: datasetPath) }) != .skip {
                try write(prepared, preparation: preparation, config: stage, into: path("data"), logger: logger)
            }
        }
        // 2. pretrain
        switch decide(.pretrain, planned: pretrain.resolved, kind: .languageModel,
                      complete: { Self.finished(path("pretrain"), kind: .languageModel) }) {
        case .skip: break
        case .run: _ = try pretrain.run(mode: .overwrite, stop: stop, logger: logger)
        case .resume(let point):
            _ = try LanguageModelJob(config: stageConfig(.pretrain, dataset: datasetPath), resume: point, mode: .resume,
                                     logger: logger).run(mode: .resume, stop: stop, logger: logger)
        }
        // 3. finetune
        let fineConfig = stageConfig(.finetune, dataset: datasetPath)
        let finetune = try LanguageModelJob(config: fineConfig, mode: .overwrite, logger: logger)
        switch decide(.finetune, planned: finetune.resolved, kind: .languageModel,
                      complete: { Self.finished(path("finetune"), kind: .languageModel) }) {
        case .skip: break
        case .run: _ = try finetune.run(mode: .overwrite, stop: stop, logger: logger)
        case .resume(let point):
            _ = try LanguageModelJob(config: fineConfig, resume: point, mode: .resume, logger: logger)
                .run(mode: .resume, stop: stop, logger: logger)
        }
        // 4. classifier
        let clasConfig = stageConfig(.classifier, dataset: datasetPath)
        let classifier = try ClassifierJob(config: clasConfig, mode: .overwrite, logger: logger)
        switch decide(.classifier, planned: classifier.resolved, kind: .classifier,
                      complete: { Self.finished(path("classifier"), kind: .classifier) }) {
        case .skip: break
        case .run: _ = try classifier.run(mode: .overwrite, stop: stop, logger: logger)
        case .resume(let point):
            _ = try ClassifierJob(config: clasConfig, resume: point, mode: .resume, logger: logger)
                .run(mode: .resume, stop: stop, logger: logger)
        }
        // 5. test: the classifier on the test split, into RUN/test (kept while the classifier is).
        let step = try ModelCheckpoint.load(from: path("classifier"), expecting: .classifier).step
        let result: TestResult
        if rerun == nil, let previous = Self.testResult(path("test/test.json"), step: step) {
            logger.info("== test: complete, skipped (\(ConfigPath.display(path("test"))))")
            result = previous
        } else {
            logger.info("== test: evaluating \(ConfigPath.display(path("classifier"))) on the test split")
            let test = try EvaluationJob(config: stageConfig(.test, dataset: datasetPath), model: path("classifier"),
                                         split: .test, out: path("test"), logger: logger)
            let evaluation = try test.run(logger: logger)
            result = TestResult(accuracy: evaluation.metrics.accuracy, mcc: evaluation.metrics.mcc)
        }
        try JobChecks.writeSummary(["command": "ulmfit run", "test_accuracy": result.accuracy,
                                    "test_mcc": result.mcc.isFinite ? result.mcc : NSNull()], to: out)
        finished = true
        RunFolder.discardReplaced(out)
        return result
    }

    /// What `run` reports: the classifier's accuracy and MCC on the test split.
    public struct TestResult: Sendable {
        public var accuracy: Double
        public var mcc: Double
    }

    /// The results in a test stage's `test.json`, if it scored the classifier at `step`.
    static func testResult(_ path: String, step: Int) -> TestResult? {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              object["step"] as? Int == step, let accuracy = object["accuracy"] as? Double else { return nil }
        return TestResult(accuracy: accuracy, mcc: object["mcc"] as? Double ?? .nan)
    }

    /// The classification dataset: `data.dataset` as given, or the configured files prepared in
    /// memory (written to RUN/data/dataset.csv by the prepare stage). The preparation is returned
    /// for its summary.
    func inputDataset(logger: Logger) throws -> (path: String, dataset: PreparedDataset, preparation: DatasetPreparation?) {
        if let given = config.data.dataset { return (given, try PreparedDataset.load(path: given), nil) }
        let stage = prepareConfig()
        var preparation = DatasetPreparation()
        for file in stage.data.csv ?? [] { try preparation.addCSV(path: file) }
        for file in stage.data.positive ?? [] { try preparation.addFasta(path: file, label: 1) }
        for file in stage.data.negative ?? [] { try preparation.addFasta(path: file, label: 0) }
        let (dataset, warnings) = try preparation.prepare(seed: stage.dataOptions.splitSeed)
        warnings.forEach { logger.warning("\($0)") }
        return (path("data/dataset.csv"), dataset, preparation)
    }

    /// The fine-tuning and classifier stages' sizes against the dataset, tokenized with the
    /// pretraining vocabulary, and the pretrained model's shape (the checkpoints they start from
    /// do not exist yet).
    func preflight(_ dataset: PreparedDataset, datasetPath: String, pretrain: LanguageModelJob, workers: Int,
                   logger: Logger) throws {
        let encoder = try KmerEncoder(vocabulary: pretrain.vocabulary)
        let finetune = stageConfig(.finetune, dataset: datasetPath)
        let corpus = try LanguageModelCorpus.fromPreparedDataset(
            dataset, source: datasetPath, encoder: encoder, splits: finetune.dataOptions.lmSplits,
            validFraction: finetune.dataOptions.validFraction, seed: finetune.languageModelTrainerOptions.seed)
        _ = try LanguageModelJob.checkSizes(finetune, corpus: corpus,
                                            modelConfig: pretrain.modelConfig, workers: workers, logger: logger)
        let data = try EncodedClassificationData(dataset: dataset, encoder: encoder, source: datasetPath)
        let c = pretrain.modelConfig
        let classifier = AWDLSTMConfig.classifier(vocabSize: c.vocabSize, embeddingSize: c.embeddingSize,
                                                  hiddenSize: c.hiddenSize, layerCount: c.layerCount)
        _ = try ClassifierJob.checkSizes(stageConfig(.classifier, dataset: datasetPath), data: data, modelConfig: classifier,
                                         dataset: datasetPath, workers: workers, logger: logger)
    }

    /// The config of one stage: the pipeline's settings that stage uses, with its inputs and
    /// folder set by the pipeline.
    func stageConfig(_ stage: Stage, dataset: String) -> RunConfig {
        var c: RunConfig
        switch stage {
        case .prepare:
            return prepareConfig()
        case .pretrain:
            c = config.keeping(LanguageModelJob.uses.subtracting(["data.dataset", "data.lm_splits"]))
        case .finetune:
            // valid_fraction also sets the share of train+valid held out when the LM fine-tunes on both.
            let heldOut = config.dataOptions.lmSplits == .trainAndValid
            c = config.fineTuning.keeping(LanguageModelJob.uses.subtracting(["data.fasta", "data.vocab", "data.k", "data.stride",
                                                                             "data.max_bases", "model.emb", "model.hidden",
                                                                             "model.layers"]
                                                                            + (heldOut ? [] : ["data.valid_fraction"])))
            c.set("data.dataset", dataset)
            c.set("data.init_from", path("pretrain"))
        case .classifier:
            c = config.keeping(ClassifierJob.uses.subtracting(["data.vocab", "data.k", "data.stride", "model.emb", "model.hidden",
                                                               "model.layers"]))
            c.set("data.dataset", dataset)
            c.set("data.encoder", path("finetune"))
        case .test:   // evaluate writes to the folder it is given, not to `out`
            c = config.keeping(EvaluationJob.uses)
            c.set("data.dataset", dataset)
            return c
        }
        c.set("out", path(stage.rawValue))
        return c
    }

    func prepareConfig() -> RunConfig {
        var c = config.keeping(Set(Self.prepareKeys)).filled(["data.split_seed"].compactMap(ConfigSchema.key))
        c.set("out", path(Stage.prepare.rawValue))
        return c
    }

    /// Writes the prepare stage: RUN/data/config.yaml, dataset.csv, summary.json (last).
    func write(_ dataset: PreparedDataset, preparation: DatasetPreparation, config stage: RunConfig, into folder: String,
               logger: Logger) throws {
        let lock = try RunFolder.prepare(folder, mode: .overwrite)
        defer { lock.release() }
        try stage.write(keys: Self.prepareKeys.compactMap(ConfigSchema.key), to: (folder as NSString).appendingPathComponent("config.yaml"),
                        header: "The resolved settings of `ulmfit run`'s prepare stage.")
        try dataset.write(to: (folder as NSString).appendingPathComponent("dataset.csv"))
        preparation.summary(of: dataset).split(separator: "\n").forEach { logger.info("\($0)") }
        try JobChecks.writeSummary(["command": "ulmfit run (prepare)", "train": dataset[.train].count,
                                    "valid": dataset[.valid].count, "test": dataset[.test].count], to: folder)
        RunFolder.discardReplaced(folder)
    }

    /// A training stage finished: its `summary.json` (written last) exists, and the checkpoint
    /// the folder resolves to loads and is the run's last step (not an older one fallen back to).
    static func finished(_ folder: String, kind: ModelCheckpoint.Kind) -> Bool {
        guard let summary = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent("summary.json")),
              let object = try? JSONSerialization.jsonObject(with: summary) as? [String: Any],
              let steps = object["steps"] as? Int,
              let model = try? ModelCheckpoint.load(from: folder, expecting: kind) else { return false }
        return model.step == steps
    }

    /// The prepare stage finished: its `summary.json` exists and its dataset loads.
    static func prepared(_ folder: String, dataset: String) -> Bool {
        FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("summary.json"))
            && (try? PreparedDataset.load(path: dataset)) != nil
    }

    /// The keys whose values differ, e.g. `training.lr: 0.002 -> 0.001`.
    static func differences(_ old: RunConfig, _ new: RunConfig) -> [String] {
        ConfigSchema.keys.compactMap { key in
            let (a, b) = (key.display(in: old), key.display(in: new))
            return a == b ? nil : "\(key.path): \(a ?? "unset") -> \(b ?? "unset")"
        }
    }

    private func path(_ relative: String) -> String { (out as NSString).appendingPathComponent(relative) }
}

extension RunConfig {
    /// Only the keys in `keys` (and their sources).
    func keeping(_ keys: Set<String>) -> RunConfig {
        var c = RunConfig()
        for key in ConfigSchema.keys where keys.contains(key.path) { key.copy(from: self, into: &c) }
        return c
    }

    /// Sets a path key to a value `ulmfit run` chose (source: `ulmfit run`).
    mutating func set(_ key: String, _ value: String) {
        ConfigSchema.key(key)?.set(&self, value)
        sources[key] = PipelineJob.pipelineSource
    }
}
