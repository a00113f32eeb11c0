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
    /// Results directory: metrics.jsonl/.csv, valid.jsonl/.csv, loss.svg, checkpoints/.
    public var outDirectory: String
    /// Checkpoints kept (the newest); nil keeps all.
    public var keep: Int? = 3
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
/// trainer: one-cycle schedule, progress line, JSONL/CSV metrics, an SVG loss curve and a
/// checkpoint (`OUT/checkpoints/step-N/`) after every validation and at the end.
public func runLanguageModel(corpus: LanguageModelCorpus, vocabulary: Vocabulary, config: AWDLSTMConfig,
                             trainerOptions: LanguageModelTrainerOptions, options: LanguageModelRunOptions,
                             pool: WorkerPool, initialParameters: [Float]? = nil,
                             log: (String) -> Void = { print($0) }) throws -> LanguageModelRunSummary {
    let B = trainerOptions.batchSize, T = trainerOptions.bptt, seed = trainerOptions.seed
    let firstEpoch = try LanguageModelBatches(documents: corpus.train, batchSize: B, bptt: T, shuffle: (seed, 0))
    let stepsPerEpoch = firstEpoch.windowCount
    let totalSteps = min(options.maxSteps ?? .max, options.epochs * stepsPerEpoch)
    guard totalSteps > 0 else { throw TrainingError.invalidLayout("no training step to run (epochs \(options.epochs), max steps \(options.maxSteps ?? 0))") }

    let parameters = LanguageModelParameters(config: config)
    let layout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
    let plan = try OptimizerPlan(layout: layout, learningRates: .uniform(options.learningRate),
                                 schedule: OneCycleSchedule(totalSteps: totalSteps, pctStart: options.pctStart),
                                 weightDecay: options.weightDecay, maxGradNorm: options.maxGradNorm)
    let trainer = try LanguageModelTrainer(config: config, options: trainerOptions, pool: pool, plan: plan,
                                           initialParameters: initialParameters)
    var valid: LanguageModelBatches?
    do {
        if !corpus.valid.isEmpty { valid = try LanguageModelBatches(documents: corpus.valid, batchSize: B, bptt: T) }
    } catch {
        log("validation skipped: \(error)")
    }
    log("model: \(parameters.layout.count) parameters, vocabulary \(config.vocabSize); "
        + "\(corpus.trainTokens) train / \(corpus.validTokens) valid tokens; \(stepsPerEpoch) steps per epoch, "
        + "\(totalSteps) steps; \(trainer.workerCount) workers (memory: \(trainer.memoryPolicy))")

    let metrics = try MetricsLog(directory: options.outDirectory, name: "metrics")
    let validLog = try MetricsLog(directory: options.outDirectory, name: "valid")
    var summary = LanguageModelRunSummary()
    var trainCurve: [(x: Double, y: Double)] = []
    func validate(step: Int) {
        guard let valid else { return }
        let (loss, accuracy) = trainer.evaluate(valid)
        summary.validation.append((step, loss, accuracy))
        let row: [(key: String, value: MetricValue)] = [
            ("step", .integer(step)), ("loss", .number(loss)), ("accuracy", .number(accuracy)),
            ("perplexity", .number(exp(loss))),
        ]
        validLog.append(row)
        log("valid step \(step): loss \(String(format: "%.4f", loss)), accuracy \(String(format: "%.4f", accuracy))")
    }
    validate(step: 0)
    /// The loss chart and the checkpoint as of `step`: written after every validation, so a
    /// long run that is stopped keeps its latest weights (each file replaced atomically).
    let checkpoints = RunCheckpoint(run: options.outDirectory, kind: .languageModel, shape: .init(config: config),
                                    layout: parameters.layout, vocabulary: vocabulary, runConfig: options.runConfig,
                                    keep: options.keep, deterministicShards: trainerOptions.deterministicShards)
    /// `cursor`: where the data continues (epoch, next window).
    func saveProgress(step: Int, cursor: (epoch: Int, window: Int)) throws {
        var chart = SVGLineChart(title: "Language model: cross-entropy", xLabel: "optimizer step", yLabel: "loss (nats)",
                                 series: [.init(name: "train (smoothed)", points: trainCurve)])
        if !summary.validation.isEmpty {
            chart.series.append(.init(name: "valid", points: summary.validation.map { (Double($0.step), $0.loss) },
                                      markers: true))
        }
        try chart.write(to: (options.outDirectory as NSString).appendingPathComponent("loss.svg"))
        try checkpoints.write(pool: pool, params: trainer.params.pointer,
                              progress: .init(step: step, epoch: cursor.epoch,
                                              schedule: .object(["stageStart": .int(0), "stepInStage": .int(Int64(step))]),
                                              dataCursor: .object(["epoch": .int(Int64(cursor.epoch)),
                                                                   "nextWindow": .int(Int64(cursor.window))]),
                                              randomKeys: .object(["seed": .uint(seed)])))
    }

    let progress = ProgressLine(label: "step", total: totalSteps)
    let start = Date()
    var smooth = Double.nan
    var step = 0
    epochs: for epoch in 0 ..< options.epochs {
        // Documents are shuffled per epoch (keyed by seed and epoch), as fastai's LMDataLoader.
        let batches = epoch == 0 ? firstEpoch
            : try LanguageModelBatches(documents: corpus.train, batchSize: B, bptt: T, shuffle: (seed, epoch))
        trainer.resetState()
        for window in 0 ..< batches.windowCount {
            if step == totalSteps { break epochs }
            let lr = try plan.settings(atStep: step).learningRates.last ?? 0
            let r = try trainer.trainStep(batches, window: window)
            step += 1
            summary.tokens += r.tokens
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
                ("idle_ms", .number(r.timing.idle * 1e-6)), ("wall_ms", .number(r.timing.wall * 1e-6)),
            ]
            metrics.append(row)
            let elapsed = Date().timeIntervalSince(start)
            progress.update(done: step, fields: ["epoch \(epoch + 1)/\(options.epochs)",
                                                 "loss \(String(format: "%.4f", smooth))",
                                                 "\(Int(Double(summary.tokens) / elapsed)) tok/s"])
            if let every = options.evalEvery, step % every == 0, step < totalSteps {
                validate(step: step)
                try saveProgress(step: step, cursor: (epoch, window + 1))
            }
        }
        progress.finish()
        validate(step: step)
        if step < totalSteps { try saveProgress(step: step, cursor: (epoch + 1, 0)) }
    }
    if summary.validation.last?.step != step { validate(step: step) }
    summary.steps = step
    summary.seconds = Date().timeIntervalSince(start)
    summary.smoothedTrainLoss = smooth

    try saveProgress(step: step, cursor: (options.epochs, 0))
    log("trained \(step) steps, \(summary.tokens) tokens in \(String(format: "%.1f", summary.seconds)) s "
        + "(\(Int(summary.tokensPerSecond)) tokens/s); results in \(options.outDirectory)")
    return summary
}
