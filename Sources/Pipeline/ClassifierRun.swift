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
    /// Results directory: metrics.jsonl/.csv, valid.jsonl/.csv, test.json, predictions.csv,
    /// loss.svg, accuracy.svg, checkpoints/.
    public var outDirectory: String
    /// Checkpoints kept (the newest); nil keeps all.
    public var keep: Int? = 3
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
/// (test split), loss.svg, accuracy.svg and a checkpoint in checkpoints/ (with BatchNorm statistics).
///
/// - Parameter initialParameters: e.g. `EncoderTransfer.initialParameters` (a fine-tuned
///   encoder); nil trains from scratch.
public func runClassifier(data: EncodedClassificationData, vocabulary: Vocabulary, config: AWDLSTMConfig,
                          trainerOptions: ClassifierTrainerOptions, options: ClassifierRunOptions,
                          pool: WorkerPool, initialParameters: [Float]? = nil,
                          log: (String) -> Void = { print($0) }) throws -> ClassifierRunSummary {
    let B = trainerOptions.batchSize, seed = trainerOptions.seed
    let train = data[.train], valid = data[.valid], test = data[.test]
    let stepsPerEpoch = train.sequences.count / B   // the last partial batch is dropped, as fastai does
    guard stepsPerEpoch > 0 else {
        throw TrainingError.invalidLayout("the train split has \(train.sequences.count) sequences, fewer than one batch of \(B)")
    }
    guard !options.stages.isEmpty, options.stages.allSatisfy({ $0.epochs >= 1 }) else {
        throw TrainingError.invalidLayout("need at least one stage, each of at least one epoch")
    }
    data.warnings.forEach { log("warning: \($0)") }
    let stageSteps = options.stages.map { min(options.maxStepsPerStage ?? .max, $0.epochs * stepsPerEpoch) }
    let totalSteps = stageSteps.reduce(0, +)

    let parameters = ClassifierParameters(config: config, classCount: data.classCount)
    let layout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
    func plan(_ s: Int) throws -> OptimizerPlan {
        var plan = try OptimizerPlan(layout: layout, learningRates: options.stages[s].learningRates,
                                     schedule: OneCycleSchedule(totalSteps: stageSteps[s], pctStart: options.pctStart),
                                     weightDecay: options.weightDecay, maxGradNorm: options.maxGradNorm)
        try plan.freezeTo(options.stages[s].freezeTo)
        return plan
    }
    let trainer = try ClassifierTrainer(config: config, classCount: data.classCount, options: trainerOptions,
                                        maxLength: data.maxLength, pool: pool, plan: plan(0),
                                        initialParameters: initialParameters)
    log("classifier: \(parameters.layout.count) parameters, \(data.classCount) classes, vocabulary \(config.vocabSize); "
        + "\(train.sequences.count) train / \(valid.sequences.count) valid / \(test.sequences.count) test sequences "
        + "(up to \(data.maxLength) tokens); \(stepsPerEpoch) steps per epoch, \(totalSteps) steps in "
        + "\(options.stages.count) stage(s); \(trainer.workerCount) workers")

    let metrics = try MetricsLog(directory: options.outDirectory, name: "metrics")
    let validLog = try MetricsLog(directory: options.outDirectory, name: "valid")
    var summary = ClassifierRunSummary()
    var lossCurve: [(x: Double, y: Double)] = [], accuracyCurve: [(x: Double, y: Double)] = []
    var smoothLoss = Double.nan, smoothAccuracy = Double.nan
    let progress = ProgressLine(label: "step", total: totalSteps)
    let start = Date()
    var epoch = 0

    for (s, stage) in options.stages.enumerated() {
        if s > 0 { try trainer.beginStage(plan(s)) }
        log("stage \(s + 1)/\(options.stages.count) (\(stage.name)): freeze_to(\(stage.freezeTo)), "
            + "peak learning rates \(describeRates(trainer.plan)), \(stageSteps[s]) steps")
        var done = 0
        for _ in 0 ..< stage.epochs where done < stageSteps[s] {
            epoch += 1
            // Reshuffled every epoch, keyed by (seed, epoch) so any worker count sees the same batches.
            let batches = try ClassificationBatches(sequences: train.sequences, labels: train.labels, batchSize: B,
                                                    shuffle: (seed, epoch), dropLast: true)
            for i in 0 ..< batches.batchCount where done < stageSteps[s] {
                let settings = try trainer.plan.settings(atStep: trainer.step - trainer.stageStart)
                let r = try trainer.trainStep(batches.batch(i))
                done += 1
                summary.sequences += r.sequences
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
                    ("optimizer_ms", .number(r.timing.optimizer * 1e-6)), ("idle_ms", .number(r.timing.idle * 1e-6)),
                    ("wall_ms", .number(r.timing.wall * 1e-6)),
                ]
                metrics.append(row)
                let elapsed = Date().timeIntervalSince(start)
                progress.update(done: trainer.step, fields: ["stage \(s + 1)/\(options.stages.count)", "epoch \(epoch)",
                                                             "loss \(String(format: "%.4f", smoothLoss))",
                                                             "acc \(String(format: "%.3f", smoothAccuracy))",
                                                             "\(Int(Double(summary.sequences) / elapsed)) seq/s"])
            }
            progress.finish()
            guard !valid.sequences.isEmpty else { continue }
            let v = try ClassifierEvaluation.measure(trainer, sequences: valid.sequences, labels: valid.labels, batchSize: B)
            summary.validation.append((epoch, trainer.step, v))
            validLog.append([("epoch", .integer(epoch)), ("stage", .integer(s + 1)), ("step", .integer(trainer.step)),
                             ("loss", .number(v.loss)), ("accuracy", .number(v.metrics.accuracy)),
                             ("mcc", .number(v.metrics.mcc)), ("macro_f1", .number(v.metrics.macroF1)),
                             ("auc", v.metrics.auc.map { .number($0) } ?? .text(""))])
            log("valid epoch \(epoch) (step \(trainer.step)): \(v.summaryLine)")
        }
    }
    summary.steps = trainer.step
    summary.seconds = Date().timeIntervalSince(start)

    if !test.sequences.isEmpty {
        let t = try ClassifierEvaluation.measure(trainer, sequences: test.sequences, labels: test.labels, batchSize: B)
        summary.test = t
        try t.writeJSON(to: path(options.outDirectory, "test.json"), extra: ["split": "test", "step": trainer.step])
        try t.writePredictions(to: path(options.outDirectory, "predictions.csv"))
        log("test: \(t.summaryLine); confusion (rows true, columns predicted) \(t.metrics.confusion)")
    } else {
        log("test skipped: the dataset has no test split")
    }

    try writeCharts(lossCurve: lossCurve, accuracyCurve: accuracyCurve, validation: summary.validation,
                    directory: options.outDirectory)
    let shape = ModelCheckpoint.Shape(config: config, classCount: data.classCount, headHidden: trainer.parameters.linear0.outputSize,
                                      statisticsCount: trainer.parameters.statisticsCount)
    let checkpoints = RunCheckpoint(run: options.outDirectory, kind: .classifier, shape: shape, layout: trainer.parameters.layout,
                                    vocabulary: vocabulary, runConfig: options.runConfig, keep: options.keep,
                                    deterministicShards: trainerOptions.deterministicShards)
    try checkpoints.write(pool: pool, params: trainer.params.pointer,
                          statistics: UnsafeBufferPointer(start: trainer.statistics.pointer, count: trainer.statistics.count),
                          progress: .init(step: trainer.step, epoch: epoch, stage: options.stages.count - 1,
                                          schedule: .object(["stageStart": .int(Int64(trainer.stageStart)),
                                                             "stepInStage": .int(Int64(trainer.step - trainer.stageStart))]),
                                          dataCursor: .object(["epoch": .int(Int64(epoch)), "nextBatch": .int(0)]),
                                          randomKeys: .object(["seed": .uint(seed)])))
    log("trained \(summary.steps) steps, \(summary.sequences) sequences in \(String(format: "%.1f", summary.seconds)) s "
        + "(\(Int(Double(summary.sequences) / max(summary.seconds, 1e-9))) sequences/s); results in \(options.outDirectory)")
    return summary
}

/// loss.svg (train smoothed, valid) and accuracy.svg (train smoothed, valid accuracy and MCC).
private func writeCharts(lossCurve: [(x: Double, y: Double)], accuracyCurve: [(x: Double, y: Double)],
                         validation: [(epoch: Int, step: Int, evaluation: ClassifierEvaluation)],
                         directory: String) throws {
    var loss = SVGLineChart(title: "Classifier: cross-entropy", xLabel: "optimizer step", yLabel: "loss (nats)",
                            series: [.init(name: "train (smoothed)", points: lossCurve)])
    var accuracy = SVGLineChart(title: "Classifier: accuracy and MCC", xLabel: "optimizer step", yLabel: "accuracy / MCC",
                                series: [.init(name: "train accuracy (smoothed)", points: accuracyCurve)])
    if !validation.isEmpty {
        loss.series.append(.init(name: "valid", points: validation.map { (Double($0.step), $0.evaluation.loss) }, markers: true))
        accuracy.series.append(.init(name: "valid accuracy",
                                     points: validation.map { (Double($0.step), $0.evaluation.metrics.accuracy) }, markers: true))
        accuracy.series.append(.init(name: "valid MCC",
                                     points: validation.map { (Double($0.step), $0.evaluation.metrics.mcc) }, markers: true))
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
