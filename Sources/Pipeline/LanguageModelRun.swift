import Checkpoint
import Foundation
import GenomicData
import Model
import Parallel
import Reporting
import Training

/// Settings of one language-model training run (pretraining on a genome, or fine-tuning on the
/// target corpus): schedule, optimizer and where results go.
public struct LanguageModelRunOptions: Sendable {
    public var epochs = 1
    /// Stop after this many optimizer steps (the schedule is laid over them).
    public var maxSteps: Int?
    /// Peak learning rate of the one-cycle schedule (all layer groups).
    public var learningRate = 2e-3
    public var pctStart = 0.25
    public var weightDecay = 0.01
    /// Clip gradients to this global norm (nil: no clipping).
    public var maxGradNorm: Double?
    /// Evaluate on the validation split every this many steps (and at the end of each epoch).
    public var evalEvery: Int?
    /// Multiplier of the model's dropout probabilities (fastai `drop_mult`), applied to the
    /// config `runLanguageModel` is given.
    public var dropMult: Float = 1
    /// Show the progress line (on standard error); off for quiet runs.
    public var showProgress = true
    /// Results directory: metrics.jsonl/.csv, valid.jsonl/.csv, loss.svg, checkpoints/.
    public var outDirectory: String
    /// When checkpoints are written (every N steps, every M minutes; always after each
    /// validation, at the end of each epoch and at the end) and how many are kept.
    public var checkpoints = CheckpointPolicy()
    /// The resolved run configuration, recorded in every checkpoint's manifest.
    public var runConfig: JSONValue = .null
    public init(outDirectory: String) { self.outDirectory = outDirectory }
}

/// What a run measured.
public struct LanguageModelRunSummary: Sendable {
    public var steps = 0
    public var tokens = 0
    public var seconds = 0.0
    /// (step, mean cross-entropy) of each validation pass, the first before training.
    public var validation: [(step: Int, loss: Double, accuracy: Double)] = []
    /// Exponential moving average of the training loss at the end.
    public var smoothedTrainLoss = Double.nan
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}

/// Pretrains or fine-tunes an AWD-LSTM language model on `corpus` with a data-parallel
/// trainer: one-cycle schedule, progress line, JSONL/CSV metrics, an SVG loss curve and
/// checkpoints (`OUT/checkpoints/step-N/`, see `CheckpointPolicy`) that hold everything the run
/// needs to continue: weights, AdamW moments and step counts, every stream's recurrent state,
/// the position in the schedule and the data, and the metrics logs' state.
///
/// - Parameters:
///   - config: the model's sizes and base dropouts; `options.dropMult` scales the dropouts (also
///     when resuming: pass the base config, not the checkpoint's scaled one).
///   - resume: continue the run from this checkpoint (same corpus and settings; any worker
///     count): the metrics logs drop rows written after it and continue. With the same layout
///     (or in deterministic mode with any W <= G) the continuation is bitwise the run that was
///     not interrupted. `initialParameters` is then ignored.
///   - stop: checked before every step; once set (SIGINT/SIGTERM), the run writes a checkpoint
///     and throws `RunInterrupted`.
///   - group: the job's processes (mpirun, srun): every process runs this with the same inputs
///     and trains its part of each minibatch; rank 0 alone logs, shows progress and writes
///     files (its checkpoints hold every process's streams, gathered); a stop asked of any
///     process stops them all after the same step.
public func runLanguageModel(corpus: LanguageModelCorpus, vocabulary: Vocabulary, config baseConfig: AWDLSTMConfig,
                             trainerOptions: LanguageModelTrainerOptions, options: LanguageModelRunOptions,
                             pool: WorkerPool, initialParameters: [Float]? = nil, resume: ResumePoint? = nil,
                             stop: StopRequest? = nil, group: ProcessGroup = SingleProcess(),
                             log: (String) -> Void = { print($0) }) throws -> LanguageModelRunSummary {
    let primary = group.isPrimary
    let log = primary ? log : { _ in }
    let config = baseConfig.scaled(dropMult: options.dropMult)
    let B = trainerOptions.batchSize, T = trainerOptions.bptt, seed = trainerOptions.seed
    try options.checkpoints.validate()
    let firstEpoch = try LanguageModelBatches(documents: corpus.train, batchSize: B, bptt: T, shuffle: (seed, 0))
    let stepsPerEpoch = firstEpoch.windowCount
    let (planned, overflow) = options.epochs.multipliedReportingOverflow(by: stepsPerEpoch)   // never a trap
    let totalSteps = min(options.maxSteps ?? .max, overflow ? .max : planned)
    guard totalSteps > 0 else { throw TrainingError.invalidLayout("no training step to run (epochs \(options.epochs), max steps \(options.maxSteps ?? 0))") }
    let data = DataFingerprint(items: corpus.train)
    if let resume {
        try resume.check(data: data, what: "training corpus")
        try resume.check(totalSteps: totalSteps)
    }

    let parameters = LanguageModelParameters(config: config)
    let layout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
    let plan = try OptimizerPlan(layout: layout, learningRates: .uniform(options.learningRate),
                                 schedule: OneCycleSchedule(totalSteps: totalSteps, pctStart: options.pctStart),
                                 weightDecay: options.weightDecay, maxGradNorm: options.maxGradNorm)
    let trainer = try LanguageModelTrainer(config: config, options: trainerOptions, pool: pool, plan: plan,
                                           initialParameters: resume == nil ? initialParameters : nil, group: group)
    let restoring = Date()
    if let resume {
        try resume.restore(trainer, plan: plan)
        try trainer.restoreRecurrentState(resume.recurrentState(config: config, streams: B))
        if primary { try resume.setAsideNewerCheckpoints().forEach { log("set aside \($0): newer than the checkpoint resumed") } }
    }
    var valid: LanguageModelBatches?
    do {
        if !corpus.valid.isEmpty { valid = try LanguageModelBatches(documents: corpus.valid, batchSize: B, bptt: T) }
    } catch {
        log("validation skipped: \(error)")
    }
    log("model: \(parameters.layout.count) parameters, vocabulary \(config.vocabSize); "
        + "\(corpus.trainTokens) train / \(corpus.validTokens) valid tokens; \(stepsPerEpoch) steps per epoch, "
        + "\(totalSteps) steps; \(trainer.workerCount) workers (memory: \(trainer.memoryPolicy))"
        + (group.size > 1 ? " in each of \(group.size) processes" : ""))
    if let resume {
        log("resuming at step \(resume.step) (epoch \(resume.state.epoch + 1), window \(resume.state.nextBatch)): checkpoint "
            + "verified in \(String(format: "%.2f", resume.verifySeconds)) s, state restored in "
            + "\(String(format: "%.2f", Date().timeIntervalSince(restoring))) s")
    }

    let logs = primary ? try RunLogs(directory: options.outDirectory, resume: resume?.state, log: log) : nil
    var summary = LanguageModelRunSummary()
    summary.validation = (logs?.valid.previousRows ?? []).map { (Int($0["step"] ?? 0), $0["loss"] ?? .nan, $0["accuracy"] ?? .nan) }
    var trainCurve = (logs?.metrics.previousRows ?? []).map { (x: $0["step"] ?? 0, y: $0["smooth_loss"] ?? .nan) }
    func validate(step: Int) throws {
        guard let valid else { return }
        let (loss, accuracy) = trainer.evaluate(valid)
        summary.validation.append((step, loss, accuracy))
        let row: [(key: String, value: MetricValue)] = [
            ("step", .integer(step)), ("loss", .number(loss)), ("accuracy", .number(accuracy)),
            ("perplexity", .number(exp(loss))),
        ]
        try logs?.valid.append(row)
        log("valid step \(step): loss \(String(format: "%.4f", loss)), accuracy \(String(format: "%.4f", accuracy))")
    }
    if resume == nil { try validate(step: 0) }

    let checkpoints = RunCheckpoint(run: options.outDirectory, kind: .languageModel, shape: .init(config: config),
                                    layout: parameters.layout, vocabulary: vocabulary, runConfig: options.runConfig,
                                    keep: options.checkpoints.keep, deterministicShards: trainerOptions.deterministicShards)
    var clock = CheckpointClock(options.checkpoints)
    var step = trainer.step
    var smooth = resume?.state.smoothing["loss"] ?? .nan
    var tokensSeen = resume?.state.examples ?? 0
    /// Where the data continues: the epoch and window of the next step.
    var cursor = (epoch: resume?.state.epoch ?? 0, window: resume?.state.nextBatch ?? 0)
    /// The loss chart and a checkpoint of the run as it stands (between two steps). Several
    /// processes: every one gives its streams' recurrent state, rank 0 writes (the weights and
    /// moments are the same everywhere); the others return "".
    @discardableResult
    func save() throws -> String {
        let everyStream = group.size > 1 ? trainer.recurrentStateOfEveryStream() : nil
        guard primary else { return "" }
        var chart = SVGLineChart(title: "Language model: cross-entropy", xLabel: "optimizer step", yLabel: "loss (nats)",
                                 series: [.init(name: "train (smoothed)", points: trainCurve)])
        if !summary.validation.isEmpty {
            chart.series.append(.init(name: "valid", points: summary.validation.map { (Double($0.step), $0.loss) },
                                      markers: true))
        }
        try chart.write(to: (options.outDirectory as NSString).appendingPathComponent("loss.svg"))
        let state = RunState(step: step, totalSteps: totalSteps, epoch: cursor.epoch, nextBatch: cursor.window, seed: seed,
                             stepCounts: trainer.engine.optimizerShard(worker: 0).stepCounts, data: data,
                             logRows: logs?.rows ?? [:], smoothing: ["loss": smooth], examples: tokensSeen)
        let W = trainer.workerCount
        let written = try checkpoints.write(trainer: trainer, state: state) { w in
            // Shards hold the state row-split in stream order; rank 0's last worker also carries
            // the streams of the other processes (they come after rank 0's).
            let streams = trainer.streams(worker: w)
            let rows = everyStream == nil || w < W - 1 ? streams : streams.lowerBound ..< B
            let layers = everyStream?.map { (h: $0.h, c: $0.c) } ?? trainer.recurrentState(worker: w)
            return layers.enumerated().flatMap { l, state -> [RunCheckpoint.Extra] in
                let H = config.outputSize(layer: l)
                let local = everyStream == nil ? 0 ..< rows.count * H : rows.lowerBound * H ..< rows.upperBound * H
                return [.init(name: ResumePoint.hiddenTensor(layer: l), shape: [rows.count, H], values: Array(state.h[local])),
                        .init(name: ResumePoint.cellTensor(layer: l), shape: [rows.count, H], values: Array(state.c[local]))]
            }
        }
        clock.wrote()
        log(written.summary)
        return written.path
    }

    let progress = ProgressLine(label: "step", total: totalSteps, enabled: primary && options.showProgress)
    let start = Date()
    epochs: for epoch in cursor.epoch ..< options.epochs {
        // Documents are shuffled per epoch (keyed by seed and epoch), as fastai's LMDataLoader.
        let batches = epoch == 0 ? firstEpoch
            : try LanguageModelBatches(documents: corpus.train, batchSize: B, bptt: T, shuffle: (seed, epoch))
        if cursor.window == 0 { trainer.resetState() }   // else: mid-epoch, the state came from the checkpoint
        for window in cursor.window ..< batches.windowCount {
            if step == totalSteps { break epochs }
            if let signal = agreedStopSignal(stop, stepsDone: step, group: group) {
                throw RunInterrupted(signal: signal, step: step, checkpoint: try save(), run: options.outDirectory)
            }
            let lr = try plan.settings(atStep: step).learningRates.last ?? 0
            let r = try trainer.trainStep(batches, window: window)
            step += 1
            summary.tokens += r.tokens
            tokensSeen += r.tokens
            smooth = smooth.isNaN ? r.loss : 0.98 * smooth + 0.02 * r.loss
            trainCurve.append((Double(step), smooth))
            let tps = Double(r.tokens) / (r.timing.wall * 1e-9)
            let row: [(key: String, value: MetricValue)] = [
                ("step", .integer(step)), ("epoch", .integer(epoch)), ("loss", .number(r.loss)),
                ("smooth_loss", .number(smooth)), ("accuracy", .number(r.accuracy)), ("ar", .number(r.ar)),
                ("tar", .number(r.tar)), ("lr", .number(lr)), ("grad_norm", .number(r.gradNorm)),
                ("tokens_per_s", .number(tps)), ("prepare_ms", .number(r.timing.prepare * 1e-6)),
                ("forward_ms", .number(r.timing.forward * 1e-6)), ("backward_ms", .number(r.timing.backward * 1e-6)),
                ("allreduce_ms", .number(r.timing.allReduce * 1e-6)), ("optimizer_ms", .number(r.timing.optimizer * 1e-6)),
                ("communication_ms", .number(r.timing.communication * 1e-6)), ("idle_ms", .number(r.timing.idle * 1e-6)),
                ("wall_ms", .number(r.timing.wall * 1e-6)),
            ]
            try logs?.metrics.append(row)
            let elapsed = Date().timeIntervalSince(start)
            progress.update(done: step, fields: ["epoch \(epoch + 1)/\(options.epochs)",
                                                 "loss \(String(format: "%.4f", smooth))",
                                                 "\(Int(Double(summary.tokens) / elapsed)) tok/s"])
            if window == batches.windowCount - 1 {
                // End of the epoch: validate, and (unless the run ends here) a checkpoint.
                progress.finish()
                try validate(step: step)
                cursor = (epoch + 1, 0)
                if step < totalSteps { try save() }
            } else {
                cursor = (epoch, window + 1)
                if let every = options.evalEvery, step % every == 0, step < totalSteps {
                    try validate(step: step)
                    try save()
                } else if step < totalSteps,
                          rankZeroDecides(clock.isDue(afterStep: step), group: group, label: "the checkpoint clock, step \(step)") {   // the last step: the final save follows
                    try save()
                }
            }
        }
    }
    if summary.validation.last?.step != step { try validate(step: step) }
    summary.steps = step
    summary.seconds = Date().timeIntervalSince(start)
    summary.smoothedTrainLoss = smooth

    try save()
    log("trained \(step - (resume?.step ?? 0)) steps\(resume == nil ? "" : " (to step \(step))"), \(summary.tokens) tokens in \(String(format: "%.1f", summary.seconds)) s "
        + "(\(Int(summary.tokensPerSecond)) tokens/s); results in \(options.outDirectory)")
    return summary
}

extension ResumePoint {
    /// Names of the recurrent state tensors (row-split: one row per stream) in the shards.
    static func hiddenTensor(layer l: Int) -> String { "recurrent.\(l).h" }
    static func cellTensor(layer l: Int) -> String { "recurrent.\(l).c" }

    /// Every stream's carried state, per layer [B, H_l], in global stream order.
    func recurrentState(config: AWDLSTMConfig, streams B: Int) throws -> [(h: [Float], c: [Float])] {
        try (0 ..< config.layerCount).map { l in
            let H = config.outputSize(layer: l)
            let h = try checkpoint.concatenated(Self.hiddenTensor(layer: l)), c = try checkpoint.concatenated(Self.cellTensor(layer: l))
            guard h.rows == B, c.rows == B, h.width == H, c.width == H else {
                throw CheckpointError(file: file, field: Self.hiddenTensor(layer: l), "the shards hold \(h.rows) x \(h.width) "
                    + "(h) and \(c.rows) x \(c.width) (c) state values; the run has \(B) streams of \(H)")
            }
            return (h.values, c.values)
        }
    }
}
