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
    public private(set) var plan: OptimizerPlan
    public let optimizerLayout: OptimizerLayout
    /// Optimizer steps taken so far (keys the dropout masks).
    public private(set) var step = 0
    /// The step at which the current plan's schedule started (see `beginStage`).
    public private(set) var stageStart = 0

    private let shared: WeightDropState
    private let reducer: ReduceScatter
    /// Streams of each shard (contiguous, as even as possible).
    private let shardStreams: [Range<Int>]
    /// Shards of each worker.
    private let workerShards: [Range<Int>]
    // Per-shard and per-worker state, created by the owning worker inside `pool.run`.
    private let replicas: WorkerSlots<LanguageModel?>
    private let gradients: WorkerSlots<AlignedBuffer?>
    private let tokenBuffers: WorkerSlots<(inputs: UnsafeMutableBufferPointer<Int32>, targets: UnsafeMutableBufferPointer<Int32>)?>
    private let optimizerShards: WorkerSlots<AdamWShard?>
    private let losses: WorkerSlots<LanguageModelLoss>
    private let squaredNorms: WorkerSlots<Double>
    private let timings: WorkerSlots<StepTiming>
    private let errors: WorkerSlots<Error?>

    /// - Throws: `LayoutError` when the batch cannot be split over the workers (or shards),
    ///   `TrainingError` when the optimizer plan does not fit the model.
    public init(config: AWDLSTMConfig, options: LanguageModelTrainerOptions, pool: WorkerPool,
                plan: OptimizerPlan, initialParameters: [Float]? = nil) throws {
        try config.validate()
        let W = pool.workerCount
        let G = options.deterministicShards ?? W
        if let d = options.deterministicShards, d < W {
            throw TrainingError.invalidLayout("deterministic mode with \(d) shards cannot use \(W) workers: "
                + "use at most \(d) workers or more shards")
        }
        try WorkerLayout.validateSplit(batchSize: options.batchSize, workers: G)
        parameters = LanguageModelParameters(config: config)
        self.options = options
        self.pool = pool
        self.plan = plan
        optimizerLayout = plan.layout
        guard optimizerLayout.parameterCount == parameters.layout.count else {
            throw TrainingError.invalidLayout("the optimizer plan covers \(optimizerLayout.parameterCount) "
                + "parameters but the model has \(parameters.layout.count)")
        }
        params = FloatBuffer(count: parameters.layout.count)
        if let initialParameters {
            guard initialParameters.count == params.count else {
                throw TrainingError.invalidLayout("initial parameters have \(initialParameters.count) values, "
                    + "the model needs \(params.count)")
            }
            params.pointer.update(from: initialParameters, count: params.count)
        } else {
            parameters.initialize(params.pointer, seed: options.seed)
        }
        shared = WeightDropState(parameters: parameters.encoder)
        reducer = ReduceScatter(count: parameters.layout.count, barrier: pool.barrier, sources: G)
        shardStreams = WorkerLayout.split(count: options.batchSize, parts: G)
        workerShards = WorkerLayout.split(count: G, parts: W)
        replicas = WorkerSlots(count: G, initial: nil)
        gradients = WorkerSlots(count: G, initial: nil)
        tokenBuffers = WorkerSlots(count: G, initial: nil)
        optimizerShards = WorkerSlots(count: W, initial: nil)
        losses = WorkerSlots(count: G, initial: LanguageModelLoss())
        squaredNorms = WorkerSlots(count: W, initial: 0)
        timings = WorkerSlots(count: W, initial: StepTiming())
        errors = WorkerSlots(count: W, initial: nil)

        // Each worker allocates what it owns, on its own thread (NUMA-local first touch).
        let groupCount = optimizerLayout.groups.count
        pool.run { [self] w in
            let memory = pool.memory(worker: w)
            for s in workerShards[w] {
                let b = shardStreams[s].count
                replicas[s] = LanguageModel(parameters: parameters, streamCapacity: b, steps: options.bptt)
                let g = memory.allocate(count: parameters.layout.count)
                gradients[s] = g
                reducer.attach(worker: s, gradient: g.pointer)
                let n = b * options.bptt
                tokenBuffers[s] = (.allocate(capacity: n), .allocate(capacity: n))
            }
            optimizerShards[w] = AdamWShard(range: reducer.slice(worker: w), groupCount: groupCount)
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
        guard plan.layout == optimizerLayout else {
            throw TrainingError.invalidLayout("a stage's plan must use the trainer's layer groups")
        }
        self.plan = plan
        stageStart = step
    }
    public var shardCount: Int { shardStreams.count }
    /// How memory near each worker was obtained (hwloc membind or first touch).
    public var memoryPolicy: String { gradients[0].map { "\($0.policy)" } ?? "unknown" }

    /// Zeroes every stream's recurrent state (start of an epoch or of an evaluation pass).
    public func resetState() {
        pool.run { [self] w in
            for s in workerShards[w] { replicas[s]!.encoder.resetState() }
        }
    }

    /// One optimizer step on window `window` of `batches`.
    public func trainStep(_ batches: LanguageModelBatches, window: Int) throws -> LanguageModelStepResult {
        let r = try runStep(batches, window: window, update: true)
        step += 1
        return r
    }

    /// The summed gradient of one window without updating anything (tests, diagnostics):
    /// the same computation as `trainStep` up to and including the all-reduce.
    public func gradient(_ batches: LanguageModelBatches, window: Int) throws -> [Float] {
        _ = try runStep(batches, window: window, update: false)
        return Array(UnsafeBufferPointer(start: reducer.reduced, count: parameters.layout.count))
    }

    private func runStep(_ batches: LanguageModelBatches, window: Int, update: Bool) throws -> LanguageModelStepResult {
        precondition(batches.batchSize == options.batchSize && batches.bptt <= options.bptt,
                     "batches were made for another batch size or BPTT length")
        let T = batches.seqLen(ofWindow: window)
        let W = workerCount
        let key = DropoutKey(seed: options.seed, step: step)
        let normalizer = LossNormalizer(streams: options.batchSize, steps: T)
        let settings = try plan.settings(atStep: step - stageStart)   // validated here; gradScale set per worker
        let clipping = plan.maxGradNorm != nil
        let start = DispatchTime.now().uptimeNanoseconds
        pool.barrier.resetWaitTimes()

        pool.run { [self] w in
            var timing = StepTiming()
            var t0 = DispatchTime.now().uptimeNanoseconds
            func lap() -> Double {
                let t = DispatchTime.now().uptimeNanoseconds
                defer { t0 = t }
                return Double(t - t0)
            }
            let params = UnsafePointer(self.params.pointer)
            // 1. This step's dropout masks and packed recurrent weights, split across workers.
            shared.prepare(params: params, key: key, part: w, parts: W)
            pool.barrier.arriveAndWait(worker: w)
            shared.pack(params: params, part: w, parts: W)
            pool.barrier.arriveAndWait(worker: w)
            timing.prepare = lap()
            // 2. Forward and backward of this worker's shards.
            for s in workerShards[w] {
                let model = replicas[s]!, grads = gradients[s]!, buffers = tokenBuffers[s]!
                grads.pointer.update(repeating: 0, count: grads.count)
                let streams = shardStreams[s]
                batches.fill(window: window, streams: streams, inputs: buffers.inputs, targets: buffers.targets)
                losses[s] = model.trainStep(tokens: buffers.inputs.baseAddress!, targets: buffers.targets.baseAddress!,
                                            steps: T, streams: streams.count, params: params, shared: shared,
                                            grads: grads.pointer, dropout: (key, streams.lowerBound),
                                            normalizer: normalizer, regularization: options.regularization)
                timing.forward += Double(model.lastForwardNanoseconds)
                timing.backward += Double(model.lastBackwardNanoseconds)
            }
            _ = lap()
            // 3. Reduce-scatter: this worker now owns the summed gradient of its slice.
            let slice = reducer.reduce(worker: w)
            timing.allReduce = lap()
            guard update else { timings[w] = timing; return }
            // 4. Raw-weight gradients, clipping, AdamW on the slice.
            shared.maskGradients(reducer.reduced, range: slice)
            do {
                var stepSettings = settings
                if clipping {
                    squaredNorms[w] = try GradientClipping.sumOfSquares(grads: reducer.reduced, slice: slice,
                                                                         layout: optimizerLayout, trainable: plan.trainable)
                    pool.barrier.arriveAndWait(worker: w)
                    let total = (0 ..< W).reduce(0.0) { $0 + squaredNorms[$1] }   // fixed order
                    stepSettings.gradScale = try plan.gradScale(totalSquaredNorm: total)
                }
                try optimizerShards[w]!.update(params: self.params.pointer, grads: reducer.reduced,
                                               layout: optimizerLayout, settings: stepSettings)
            } catch {
                errors[w] = error
            }
            timing.optimizer = lap()
            timings[w] = timing
        }
        if let error = errors.elements.compactMap({ $0 }).first {
            for w in 0 ..< W { errors[w] = nil }
            throw error
        }

        var timing = StepTiming()
        for w in 0 ..< W {
            var t = timings[w]
            let idle = Double(pool.barrier.waitedNanoseconds(worker: w))
            t.idle = idle
            // Barrier waits happened inside prepare, all-reduce and optimizer: report them as idle.
            let inPhases = t.prepare + t.allReduce + t.optimizer
            if inPhases > 0 {
                let f = max(0, (inPhases - idle) / inPhases)
                t.prepare *= f; t.allReduce *= f; t.optimizer *= f
            }
            timing = timing + t
        }
        timing = timing.scaled(by: 1 / Double(W))
        timing.wall = Double(DispatchTime.now().uptimeNanoseconds - start)

        let total = losses.elements.reduce(LanguageModelLoss(), +)
        let tokens = normalizer.tokens
        let norm = clipping ? (0 ..< W).reduce(0.0) { $0 + squaredNorms[$1] }.squareRoot() : nil
        return LanguageModelStepResult(loss: total.crossEntropySum / Double(tokens),
                                       accuracy: Double(total.correct) / Double(tokens),
                                       ar: total.ar, tar: total.tar, tokens: tokens, gradNorm: norm, timing: timing)
    }

    /// Mean cross-entropy and accuracy over every window of `batches`, no dropout. Resets the
    /// recurrent state before and after (training continues from a fresh state, as fastai).
    public func evaluate(_ batches: LanguageModelBatches) -> (loss: Double, accuracy: Double) {
        precondition(batches.batchSize == options.batchSize, "validation batches need the training batch size")
        let W = workerCount
        pool.run { [self] w in
            for s in workerShards[w] { replicas[s]!.encoder.resetState() }
            shared.prepare(params: params.pointer, key: nil, part: w, parts: W)
            pool.barrier.arriveAndWait(worker: w)
            shared.pack(params: params.pointer, part: w, parts: W)
        }
        var sum = LanguageModelLoss(), tokens = 0
        for window in 0 ..< batches.windowCount {
            let T = batches.seqLen(ofWindow: window)
            pool.run { [self] w in
                for s in workerShards[w] {
                    let model = replicas[s]!, buffers = tokenBuffers[s]!, streams = shardStreams[s]
                    batches.fill(window: window, streams: streams, inputs: buffers.inputs, targets: buffers.targets)
                    losses[s] = model.evaluate(tokens: buffers.inputs.baseAddress!, targets: buffers.targets.baseAddress!,
                                               steps: T, streams: streams.count, params: params.pointer, shared: shared)
                }
            }
            sum = losses.elements.reduce(sum, +)
            tokens += T * options.batchSize
        }
        resetState()
        return (sum.crossEntropySum / Double(max(tokens, 1)), Double(sum.correct) / Double(max(tokens, 1)))
    }
}
