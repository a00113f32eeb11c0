import Checkpoint
import Foundation
import GenomicData
import Model
import Parallel
import Reporting
import Training

/// Settings of one classifier training run.
public struct ClassifierRunOptions: Sendable {
    /// The fits to run in order (see `ClassifierStage.ulmfit` and `.all`).
    public var stages: [ClassifierStage]
    /// Cap on the steps of each stage (its one-cycle schedule is laid over them): quick passes.
    public var maxStepsPerStage: Int?
    public var pctStart = 0.25
    public var weightDecay = 0.01
    /// Clip gradients to this global norm (nil: no clipping).
    public var maxGradNorm: Double?
    /// Multiplier of the classifier config's dropout probabilities (fastai `drop_mult`; Genomic
    /// ULMFiT uses 0.5 on fastai's classifier dropouts), applied by `runClassifier`.
    public var dropMult: Float = 0.5
    /// Show the progress line (on standard error); off for quiet runs.
    public var showProgress = true
    /// The defaults of the settings a command makes `stages` from (`ClassifierRecipe.stages`):
    /// the head's peak learning rate and the epochs of the last stage (Genomic ULMFiT's).
    public static let defaultLearningRate = 2e-2
    public static let defaultEpochs = 2
    /// Results directory: metrics.jsonl/.csv, valid.jsonl/.csv, test.json, predictions.csv,
    /// loss.svg, accuracy.svg, checkpoints/.
    public var outDirectory: String
    /// When checkpoints are written (every N steps, every M minutes; always at the end of each
    /// epoch, hence of each stage) and how many are kept.
    public var checkpoints = CheckpointPolicy()
    /// The resolved run configuration, recorded in every checkpoint's manifest.
    public var runConfig: JSONValue = .null
    public init(stages: [ClassifierStage], outDirectory: String) {
        self.stages = stages
        self.outDirectory = outDirectory
    }
}

/// What a classifier run measured.
public struct ClassifierRunSummary: Sendable {
    public var steps = 0
    public var sequences = 0
    public var seconds = 0.0
    /// One validation pass after each epoch.
    public var validation: [(epoch: Int, step: Int, evaluation: ClassifierEvaluation)] = []
    /// The final model on the test split (nil when the dataset has none).
    public var test: ClassifierEvaluation?
}

/// Trains the pooling classifier on `data`'s train split with the data-parallel trainer, one
/// one-cycle fit per stage (gradual unfreezing), validating after every epoch and testing at
/// the end. Writes per-step and per-epoch metrics (JSONL and CSV), test.json, predictions.csv
/// (test split), loss.svg, accuracy.svg and checkpoints in checkpoints/ (see `CheckpointPolicy`)
/// that hold everything the run needs to continue: weights, AdamW moments and step counts,
/// BatchNorm statistics, the stage, epoch and next minibatch, and the metrics logs' state.
///
/// - Parameters:
///   - config: sizes and base dropouts (e.g. `AWDLSTMConfig.classifier`); `options.dropMult`
///     scales the dropouts (also when resuming: pass the base config).
///   - initialParameters: e.g. `EncoderTransfer.initialParameters` (a fine-tuned encoder); nil
///     trains from scratch. Ignored when resuming.
///   - resume: continue the run from this checkpoint (same data and settings; any worker
///     count), also in the middle of an epoch or a stage; the metrics logs drop rows written
///     after it. With the same layout (or in deterministic mode with any W <= G) the
///     continuation is bitwise the run that was not interrupted. `summary.validation` then
///     holds this process's validations only.
///   - stop: checked after every step; once set (SIGINT/SIGTERM), the run writes a checkpoint
///     and throws `RunInterrupted`.
///   - group: the job's processes (mpirun, srun): every process runs this with the same inputs
///     and trains its part of each minibatch; rank 0 alone logs, shows progress and writes
///     files (every process holds the same weights, moments and statistics); a stop asked of
///     any process stops them all after the same step.
public func runClassifier(data: EncodedClassificationData, vocabulary: Vocabulary, config baseConfig: AWDLSTMConfig,
                          trainerOptions: ClassifierTrainerOptions, options: ClassifierRunOptions,
                          pool: WorkerPool, initialParameters: [Float]? = nil, resume: ResumePoint? = nil,
                          stop: StopRequest? = nil, group: ProcessGroup = SingleProcess(),
                          log: (String) -> Void = { print($0) }) throws -> ClassifierRunSummary {
    let primary = group.isPrimary
    let log = primary ? log : { _ in }
    let config = baseConfig.scaled(dropMult: options.dropMult)
    let B = trainerOptions.batchSize, seed = trainerOptions.seed
    let train = data[.train], valid = data[.valid], test = data[.test]
    let stepsPerEpoch = train.sequences.count / B   // the last partial batch is dropped, as fastai does
    guard stepsPerEpoch > 0 else {
        throw TrainingError.invalidLayout("the train split has \(train.sequences.count) sequences, fewer than one batch of \(B)")
    }
    guard !options.stages.isEmpty, options.stages.allSatisfy({ $0.epochs >= 1 }) else {
        throw TrainingError.invalidLayout("need at least one stage, each of at least one epoch")
    }
    try options.checkpoints.validate()
    data.warnings.forEach { log("warning: \($0)") }
    // Saturating: a step count past Int.max (refused by the job's checks unless max steps end it) never traps.
    let stageSteps = options.stages.map { stage in
        let (steps, overflow) = stage.epochs.multipliedReportingOverflow(by: stepsPerEpoch)
        return min(options.maxStepsPerStage ?? .max, overflow ? .max : steps)
    }
    let totalSteps = stageSteps.reduce(0) { let (sum, overflow) = $0.addingReportingOverflow($1); return overflow ? .max : sum }
    let fingerprint = DataFingerprint(items: train.sequences, labels: train.labels)
    if let resume {
        try resume.check(data: fingerprint, what: "train split")
        try resume.check(totalSteps: totalSteps)
        guard resume.state.stage < options.stages.count else {
            throw CheckpointError(file: resume.file, field: "stage", "is \(resume.state.stage); the run has \(options.stages.count) stages")
        }
    }

    let parameters = ClassifierParameters(config: config, classCount: data.classCount)
    let layout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
    func plan(_ s: Int) throws -> OptimizerPlan {
        var plan = try OptimizerPlan(layout: layout, learningRates: options.stages[s].learningRates,
                                     schedule: OneCycleSchedule(totalSteps: stageSteps[s], pctStart: options.pctStart),
                                     weightDecay: options.weightDecay, maxGradNorm: options.maxGradNorm)
        try plan.freezeTo(options.stages[s].freezeTo)
        return plan
    }
    let startStage = resume?.state.stage ?? 0
    let trainer = try ClassifierTrainer(config: config, classCount: data.classCount, options: trainerOptions,
                                        maxLength: data.maxLength, pool: pool, plan: plan(startStage),
                                        initialParameters: resume == nil ? initialParameters : nil, group: group)
    let restoring = Date()
    if let resume {
        try resume.restore(trainer, plan: plan(startStage))
        try resume.restoreStatistics(into: trainer.statistics)
        if primary { try resume.setAsideNewerCheckpoints().forEach { log("set aside \($0): newer than the checkpoint resumed") } }
    }
    log("classifier: \(parameters.layout.count) parameters, \(data.classCount) classes, vocabulary \(config.vocabSize); "
        + "\(train.sequences.count) train / \(valid.sequences.count) valid / \(test.sequences.count) test sequences "
        + "(up to \(data.maxLength) tokens); \(stepsPerEpoch) steps per epoch, \(totalSteps) steps in "
        + "\(options.stages.count) stage(s); \(trainer.workerCount) workers"
        + (group.size > 1 ? " in each of \(group.size) processes" : ""))
    if let resume {
        log("resuming at step \(resume.step) (stage \(startStage + 1), epoch \(resume.state.epoch), "
            + "minibatch \(resume.state.nextBatch)): checkpoint verified in \(String(format: "%.2f", resume.verifySeconds)) s, "
            + "state restored in \(String(format: "%.2f", Date().timeIntervalSince(restoring))) s")
    }

    let logs = primary ? try RunLogs(directory: options.outDirectory, resume: resume?.state, log: log) : nil
    var summary = ClassifierRunSummary()
    var lossCurve: [(x: Double, y: Double)] = [], accuracyCurve: [(x: Double, y: Double)] = []
    var smoothLoss = Double.nan, smoothAccuracy = Double.nan
    for row in logs?.metrics.previousRows ?? [] {   // the run's earlier part, for the charts
        let accuracy = row["accuracy"] ?? .nan
        smoothAccuracy = smoothAccuracy.isNaN ? accuracy : 0.98 * smoothAccuracy + 0.02 * accuracy
        lossCurve.append((row["step"] ?? 0, row["smooth_loss"] ?? .nan))
        accuracyCurve.append((row["step"] ?? 0, smoothAccuracy))
    }
    var validPoints = (logs?.valid.previousRows ?? []).map {
        ValidPoint(step: $0["step"] ?? 0, loss: $0["loss"] ?? .nan, accuracy: $0["accuracy"] ?? .nan, mcc: $0["mcc"] ?? .nan)
    }
    // The averages continue from the checkpoint's exact values.
    smoothLoss = resume?.state.smoothing["loss"] ?? .nan
    smoothAccuracy = resume?.state.smoothing["accuracy"] ?? .nan
    var sequencesSeen = resume?.state.examples ?? 0
    let progress = ProgressLine(label: "step", total: totalSteps, enabled: primary && options.showProgress)
    let start = Date()
    /// Epochs begun so far over all stages (1-based in the logs); keys each epoch's shuffle.
    var epoch = resume?.state.epoch ?? 0
    /// Where the run continues: stage, epoch of that stage, minibatch of that epoch.
    var position = (stage: startStage, epochInStage: resume?.state.epochInStage ?? 0, batch: resume?.state.nextBatch ?? 0)

    let shape = ModelCheckpoint.Shape(config: config, classCount: data.classCount, headHidden: trainer.parameters.linear0.outputSize,
                                      statisticsCount: trainer.parameters.statisticsCount)
    let checkpoints = RunCheckpoint(run: options.outDirectory, kind: .classifier, shape: shape, layout: trainer.parameters.layout,
                                    vocabulary: vocabulary, runConfig: options.runConfig, keep: options.checkpoints.keep,
                                    deterministicShards: trainerOptions.deterministicShards)
    var clock = CheckpointClock(options.checkpoints)
    /// The charts and a checkpoint of the run as it stands (between two steps); rank 0 alone
    /// writes (every process holds the same state), the others return "".
    @discardableResult
    func save() throws -> String {
        guard primary else { return "" }
        try writeCharts(lossCurve: lossCurve, accuracyCurve: accuracyCurve, validation: validPoints,
                        directory: options.outDirectory)
        let state = RunState(step: trainer.step, stage: position.stage, stageStart: trainer.stageStart, totalSteps: totalSteps,
                             epoch: epoch, epochInStage: position.epochInStage, nextBatch: position.batch, seed: seed,
                             stepCounts: trainer.engine.optimizerShard(worker: 0).stepCounts, data: fingerprint,
                             logRows: logs?.rows ?? [:], smoothing: ["loss": smoothLoss, "accuracy": smoothAccuracy],
                             examples: sequencesSeen)
        let written = try checkpoints.write(trainer: trainer, state: state, statistics: trainer.statistics)
        clock.wrote()
        log(written.summary)
        return written.path
    }
    /// Between steps: a requested stop writes a checkpoint and ends the run.
    func stopIfRequested() throws {
        if let signal = agreedStopSignal(stop, stepsDone: trainer.step, group: group), trainer.step < totalSteps {
            throw RunInterrupted(signal: signal, step: trainer.step, checkpoint: try save(), run: options.outDirectory)
        }
    }

    try stopIfRequested()
    for s in startStage ..< options.stages.count {
        let stage = options.stages[s]
        if s > startStage {
            try trainer.beginStage(plan(s))
            position = (s, 0, 0)
        }
        trainer.encoderInEvalMode = stage.encoderInEvalMode
        log("stage \(s + 1)/\(options.stages.count) (\(stage.name)): freeze_to(\(stage.freezeTo)), "
            + "peak learning rates \(describeRates(trainer.plan)), \(stageSteps[s]) steps")
        for k in position.epochInStage ..< stage.epochs {
            guard trainer.step - trainer.stageStart < stageSteps[s] else { break }
            if position.batch == 0 { epoch += 1 }   // else: resumed in the middle of this epoch
            // Reshuffled every epoch, keyed by (seed, epoch) so any worker count sees the same batches.
            let batches = try ClassificationBatches(sequences: train.sequences, labels: train.labels, batchSize: B,
                                                    shuffle: (seed, epoch), dropLast: true)
            for i in position.batch ..< batches.batchCount {
                guard trainer.step - trainer.stageStart < stageSteps[s] else { break }
                let settings = try trainer.plan.settings(atStep: trainer.step - trainer.stageStart)
                let r = try trainer.trainStep(batches.batch(i))
                summary.sequences += r.sequences
                sequencesSeen += r.sequences
                smoothLoss = smoothLoss.isNaN ? r.loss : 0.98 * smoothLoss + 0.02 * r.loss
                smoothAccuracy = smoothAccuracy.isNaN ? r.accuracy : 0.98 * smoothAccuracy + 0.02 * r.accuracy
                lossCurve.append((Double(trainer.step), smoothLoss))
                accuracyCurve.append((Double(trainer.step), smoothAccuracy))
                let row: [(key: String, value: MetricValue)] = [
                    ("step", .integer(trainer.step)), ("stage", .integer(s + 1)), ("epoch", .integer(epoch)),
                    ("loss", .number(r.loss)), ("smooth_loss", .number(smoothLoss)), ("accuracy", .number(r.accuracy)),
                    ("ar", .number(r.ar)), ("tar", .number(r.tar)),
                    ("lr", .number(settings.learningRates.last ?? 0)), ("lr_first", .number(settings.learningRates.first ?? 0)),
                    ("beta1", .number(settings.beta1)), ("grad_norm", .number(r.gradNorm)),
                    ("sequences_per_s", .number(Double(r.sequences) / (r.timing.wall * 1e-9))),
                    ("prepare_ms", .number(r.timing.prepare * 1e-6)), ("forward_ms", .number(r.timing.forward * 1e-6)),
                    ("backward_ms", .number(r.timing.backward * 1e-6)), ("allreduce_ms", .number(r.timing.allReduce * 1e-6)),
                    ("optimizer_ms", .number(r.timing.optimizer * 1e-6)),
                    ("communication_ms", .number(r.timing.communication * 1e-6)), ("idle_ms", .number(r.timing.idle * 1e-6)),
                    ("wall_ms", .number(r.timing.wall * 1e-6)),
                ]
                try logs?.metrics.append(row)
                let elapsed = Date().timeIntervalSince(start)
                progress.update(done: trainer.step, fields: ["stage \(s + 1)/\(options.stages.count)", "epoch \(epoch)",
                                                             "loss \(String(format: "%.4f", smoothLoss))",
                                                             "acc \(String(format: "%.3f", smoothAccuracy))",
                                                             "\(Int(Double(summary.sequences) / elapsed)) seq/s"])
                let epochEnds = i == batches.batchCount - 1 || trainer.step - trainer.stageStart == stageSteps[s]
                if !epochEnds {
                    position = (s, k, i + 1)
                    if clock.isDue(afterStep: trainer.step) { try save() }
                    try stopIfRequested()
                }
            }
            progress.finish()
            if !valid.sequences.isEmpty {
                let v = try ClassifierEvaluation.measure(trainer, sequences: valid.sequences, labels: valid.labels, batchSize: B)
                summary.validation.append((epoch, trainer.step, v))
                validPoints.append(ValidPoint(step: Double(trainer.step), loss: v.loss, accuracy: v.metrics.accuracy,
                                              mcc: v.metrics.mcc))
                try logs?.valid.append([("epoch", .integer(epoch)), ("stage", .integer(s + 1)), ("step", .integer(trainer.step)),
                                   ("loss", .number(v.loss)), ("accuracy", .number(v.metrics.accuracy)),
                                   ("mcc", .number(v.metrics.mcc)), ("macro_f1", .number(v.metrics.macroF1)),
                                   ("auc", v.metrics.auc.map { .number($0) } ?? .text(""))])
                log("valid epoch \(epoch) (step \(trainer.step)): \(v.summaryLine)")
            }
            position = (s, k + 1, 0)
            try save()   // the end of every epoch, hence of every stage
            try stopIfRequested()
        }
    }
    summary.steps = trainer.step
    summary.seconds = Date().timeIntervalSince(start)

    if !test.sequences.isEmpty {
        let t = try ClassifierEvaluation.measure(trainer, sequences: test.sequences, labels: test.labels, batchSize: B)
        summary.test = t
        if primary {
            try t.writeJSON(to: path(options.outDirectory, "test.json"), extra: ["split": "test", "step": trainer.step])
            try t.writePredictions(to: path(options.outDirectory, "predictions.csv"))
        }
        log("test: \(t.summaryLine); confusion (rows true, columns predicted) \(t.metrics.confusion)")
    } else {
        log("test skipped: the dataset has no test split")
    }
    if primary {
        try writeCharts(lossCurve: lossCurve, accuracyCurve: accuracyCurve, validation: validPoints,
                        directory: options.outDirectory)
    }
    log("trained \(summary.steps - (resume?.step ?? 0)) steps\(resume == nil ? "" : " (to step \(summary.steps))"), \(summary.sequences) sequences in \(String(format: "%.1f", summary.seconds)) s "
        + "(\(Int(Double(summary.sequences) / max(summary.seconds, 1e-9))) sequences/s); results in \(options.outDirectory)")
    return summary
}

/// One validation pass as the charts draw it.
private struct ValidPoint {
    var step: Double, loss: Double, accuracy: Double, mcc: Double
}

/// loss.svg (train smoothed, valid) and accuracy.svg (train smoothed, valid accuracy and MCC).
private func writeCharts(lossCurve: [(x: Double, y: Double)], accuracyCurve: [(x: Double, y: Double)],
                         validation: [ValidPoint], directory: String) throws {
    var loss = SVGLineChart(title: "Classifier: cross-entropy", xLabel: "optimizer step", yLabel: "loss (nats)",
                            series: [.init(name: "train (smoothed)", points: lossCurve)])
    var accuracy = SVGLineChart(title: "Classifier: accuracy and MCC", xLabel: "optimizer step", yLabel: "accuracy / MCC",
                                series: [.init(name: "train accuracy (smoothed)", points: accuracyCurve)])
    if !validation.isEmpty {
        loss.series.append(.init(name: "valid", points: validation.map { ($0.step, $0.loss) }, markers: true))
        accuracy.series.append(.init(name: "valid accuracy", points: validation.map { ($0.step, $0.accuracy) }, markers: true))
        accuracy.series.append(.init(name: "valid MCC", points: validation.map { ($0.step, $0.mcc) }, markers: true))
    }
    try loss.write(to: path(directory, "loss.svg"))
    try accuracy.write(to: path(directory, "accuracy.svg"))
}

/// `embedding frozen, rnn.0 frozen, rnn.1 0.01, head 0.02`.
private func describeRates(_ plan: OptimizerPlan) -> String {
    zip(plan.layout.groups, zip(plan.peakLearningRates, plan.trainable)).map { group, rate in
        "\(group.name) " + (rate.1 ? String(format: "%.3g", rate.0) : "frozen")
    }.joined(separator: ", ")
}

private func path(_ directory: String, _ file: String) -> String {
    (directory as NSString).appendingPathComponent(file)
}
