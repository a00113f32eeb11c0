import Dispatch
import GenomicData
import Model
import Parallel

/// Options of a language-model training run that are not the model's or the optimizer's.
public struct LanguageModelTrainerOptions: Sendable {
    /// B: parallel streams per minibatch (all workers together).
    public var batchSize = 64
    /// T: BPTT window length.
    public var bptt = 70
    public var seed: UInt64 = 42
    /// fastai's AR/TAR coefficients.
    public var regularization = ActivationRegularization()
    /// Deterministic mode: the minibatch is cut into this many fixed shards, each with its own
    /// gradient buffer, summed in a fixed order, so the weights do not depend on the number of
    /// workers (any count up to this). nil: one shard per worker (faster, less memory).
    public var deterministicShards: Int?

    public init() {}
}

/// One step's results.
public struct LanguageModelStepResult: Sendable {
    /// Mean token cross-entropy of the minibatch (nats).
    public var loss: Double
    public var accuracy: Double
    public var ar: Double
    public var tar: Double
    public var tokens: Int
    /// Global gradient norm (before clipping), when clipping is on.
    public var gradNorm: Double?
    public var timing: StepTiming
}

/// The data-parallel AWD-LSTM language-model trainer.
///
/// A coordinator (the caller, which is also worker 0) splits every BPTT minibatch of B streams
/// into contiguous groups of streams, one group per shard; each worker runs forward and
/// backward for its shards on its own replica (activations, masks, gradients, hidden state of
/// its streams, all allocated by that worker on its NUMA node) reading the one shared copy of
/// the weights. Gradients are reduce-scattered in shared memory: each worker sums its own
/// slice of every shard's gradient and applies AdamW to that slice with its own shard of the
/// optimizer state. No lock anywhere; workers meet at a handful of barriers per step.
///
/// Dropout masks are keyed by (seed, step, global stream index), never by worker, so a layout
/// change does not change the masks.
public final class LanguageModelTrainer {
    public let parameters: LanguageModelParameters
    public let options: LanguageModelTrainerOptions
    public let pool: WorkerPool
    /// The shared weights (one copy, read in place by every worker).
    public let params: FloatBuffer
    /// The current stage's optimizer plan.
    public var plan: OptimizerPlan { staged.plan }
    public let optimizerLayout: OptimizerLayout
    /// Optimizer steps taken so far (keys the dropout masks).
    public var step: Int { staged.step }
    /// The step at which the current plan's schedule started (see `beginStage`).
    public var stageStart: Int { staged.stageStart }
    private var staged: StagedPlan

    private let engine: DataParallelStep
    /// Streams of each shard (contiguous, as even as possible).
    private let shardStreams: [Range<Int>]
    // Per-shard state, created by the owning worker inside `pool.run`.
    private let replicas: WorkerSlots<LanguageModel?>
    private let tokenBuffers: WorkerSlots<(inputs: UnsafeMutableBufferPointer<Int32>, targets: UnsafeMutableBufferPointer<Int32>)?>
    private let losses: WorkerSlots<LanguageModelLoss>

    /// - Throws: `LayoutError` when the batch cannot be split over the workers (or shards),
    ///   `TrainingError` when the optimizer plan does not fit the model.
    public init(config: AWDLSTMConfig, options: LanguageModelTrainerOptions, pool: WorkerPool,
                plan: OptimizerPlan, initialParameters: [Float]? = nil) throws {
        try config.validate()
        let G = try DataParallelStep.shardCount(workers: pool.workerCount, deterministicShards: options.deterministicShards,
                                                batchSize: options.batchSize)
        parameters = LanguageModelParameters(config: config)
        self.options = options
        self.pool = pool
        staged = StagedPlan(plan)
        optimizerLayout = plan.layout
        params = FloatBuffer(count: parameters.layout.count)
        parameters.initialize(params.pointer, seed: options.seed)
        try DataParallelStep.check(plan: plan, initialParameters: initialParameters, params: params, model: "language model")
        shardStreams = WorkerLayout.split(count: options.batchSize, parts: G)
        let replicas = WorkerSlots<LanguageModel?>(count: G, initial: nil)
        let tokenBuffers = WorkerSlots<(inputs: UnsafeMutableBufferPointer<Int32>,
                                        targets: UnsafeMutableBufferPointer<Int32>)?>(count: G, initial: nil)
        self.replicas = replicas
        self.tokenBuffers = tokenBuffers
        losses = WorkerSlots(count: G, initial: LanguageModelLoss())
        let (parameters, streams) = (self.parameters, shardStreams)
        engine = DataParallelStep(pool: pool, encoder: parameters.encoder, parameterCount: parameters.layout.count,
                                  shards: G, optimizerLayout: optimizerLayout) { s, _ in
            let b = streams[s].count
            replicas[s] = LanguageModel(parameters: parameters, streamCapacity: b, steps: options.bptt)
            tokenBuffers[s] = (.allocate(capacity: b * options.bptt), .allocate(capacity: b * options.bptt))
        }
    }

    deinit {
        for s in 0 ..< tokenBuffers.count {
            tokenBuffers[s]?.inputs.deallocate()
            tokenBuffers[s]?.targets.deallocate()
        }
    }

    public var workerCount: Int { pool.workerCount }

    /// Starts a new stage (fastai: another `fit_one_cycle`, e.g. after `freeze_to`): the new
    /// plan's schedule counts from the next step. The optimizer state carries over, as fastai's
    /// optimizer does between fits.
    /// - Throws: `TrainingError.invalidLayout` if the plan's layout is not this model's.
    public func beginStage(_ plan: OptimizerPlan) throws {
        try staged.beginStage(plan)
    }
    public var shardCount: Int { shardStreams.count }
    /// How memory near each worker was obtained (hwloc membind or first touch).
    public var memoryPolicy: String { engine.gradients[0].map { "\($0.policy)" } ?? "unknown" }

    /// Zeroes every stream's recurrent state (start of an epoch or of an evaluation pass).
    public func resetState() {
        pool.run { [self] w in
            for s in engine.workerShards[w] { replicas[s]!.encoder.resetState() }
        }
    }

    /// One optimizer step on window `window` of `batches`.
    public func trainStep(_ batches: LanguageModelBatches, window: Int) throws -> LanguageModelStepResult {
        let r = try runStep(batches, window: window, update: true)
        staged.advance()
        return r
    }

    /// The summed gradient of one window without updating anything (tests, diagnostics):
    /// the same computation as `trainStep` up to and including the all-reduce.
    public func gradient(_ batches: LanguageModelBatches, window: Int) throws -> [Float] {
        _ = try runStep(batches, window: window, update: false)
        return Array(UnsafeBufferPointer(start: engine.reduced, count: parameters.layout.count))
    }

    private func runStep(_ batches: LanguageModelBatches, window: Int, update: Bool) throws -> LanguageModelStepResult {
        precondition(batches.batchSize == options.batchSize && batches.bptt <= options.bptt,
                     "batches were made for another batch size or BPTT length")
        let T = batches.seqLen(ofWindow: window)
        let key = DropoutKey(seed: options.seed, step: step)
        let normalizer = LossNormalizer(streams: options.batchSize, steps: T)
        let settings = try staged.settings()   // gradScale set per worker
        let plan = self.plan
        engine.begin()
        pool.run { [self] w in
            var clock = engine.clock(worker: w)
            let params = UnsafePointer(self.params.pointer)
            engine.prepare(worker: w, params: params, key: key)
            clock.timing.prepare = clock.lap()
            for s in engine.workerShards[w] {
                let model = replicas[s]!, grads = engine.gradients[s]!, buffers = tokenBuffers[s]!
                grads.pointer.update(repeating: 0, count: grads.count)
                let streams = shardStreams[s]
                batches.fill(window: window, streams: streams, inputs: buffers.inputs, targets: buffers.targets)
                losses[s] = model.trainStep(tokens: buffers.inputs.baseAddress!, targets: buffers.targets.baseAddress!,
                                            steps: T, streams: streams.count, params: params, shared: engine.shared,
                                            grads: grads.pointer, dropout: (key, streams.lowerBound),
                                            normalizer: normalizer, regularization: options.regularization)
                clock.timing.forward += Double(model.lastForwardNanoseconds)
                clock.timing.backward += Double(model.lastBackwardNanoseconds)
            }
            _ = clock.lap()
            engine.reduceAndUpdate(worker: w, params: self.params.pointer, plan: plan, settings: settings,
                                   update: update, clock: &clock)
        }
        let timing = try engine.finish()
        let total = losses.elements.reduce(LanguageModelLoss(), +)
        let tokens = normalizer.tokens
        let norm = plan.maxGradNorm != nil && update ? engine.totalSquaredNorm.squareRoot() : nil
        return LanguageModelStepResult(loss: total.crossEntropySum / Double(tokens),
                                       accuracy: Double(total.correct) / Double(tokens),
                                       ar: total.ar, tar: total.tar, tokens: tokens, gradNorm: norm, timing: timing)
    }

    /// Mean cross-entropy and accuracy over every window of `batches`, no dropout. Resets the
    /// recurrent state before and after (training continues from a fresh state, as fastai).
    public func evaluate(_ batches: LanguageModelBatches) -> (loss: Double, accuracy: Double) {
        precondition(batches.batchSize == options.batchSize, "validation batches need the training batch size")
        pool.run { [self] w in
            for s in engine.workerShards[w] { replicas[s]!.encoder.resetState() }
            engine.prepare(worker: w, params: params.pointer, key: nil)
        }
        var sum = LanguageModelLoss(), tokens = 0
        for window in 0 ..< batches.windowCount {
            let T = batches.seqLen(ofWindow: window)
            pool.run { [self] w in
                for s in engine.workerShards[w] {
                    let model = replicas[s]!, buffers = tokenBuffers[s]!, streams = shardStreams[s]
                    batches.fill(window: window, streams: streams, inputs: buffers.inputs, targets: buffers.targets)
                    losses[s] = model.evaluate(tokens: buffers.inputs.baseAddress!, targets: buffers.targets.baseAddress!,
                                               steps: T, streams: streams.count, params: params.pointer,
                                               shared: engine.shared)
                }
            }
            sum = losses.elements.reduce(sum, +)
            tokens += T * options.batchSize
        }
        resetState()
        return (sum.crossEntropySum / Double(max(tokens, 1)), Double(sum.correct) / Double(max(tokens, 1)))
    }
}
