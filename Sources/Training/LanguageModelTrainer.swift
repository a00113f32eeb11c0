import GenomicData
import Kernels
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
    /// Global norm of the trainable gradients, before clipping.
    public var gradNorm: Double
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
public final class LanguageModelTrainer: DataParallelTrainer {
    public let parameters: LanguageModelParameters
    public let options: LanguageModelTrainerOptions
    public let engine: DataParallelEngine

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
        let parameters = LanguageModelParameters(config: config)
        self.parameters = parameters
        self.options = options
        let G = try DataParallelEngine.shardCount(workers: pool.workerCount, deterministicShards: options.deterministicShards,
                                                  batchSize: options.batchSize)
        let streams = WorkerLayout.split(count: options.batchSize, parts: G)
        shardStreams = streams
        let replicas = WorkerSlots<LanguageModel?>(count: G, initial: nil)
        let tokenBuffers = WorkerSlots<(inputs: UnsafeMutableBufferPointer<Int32>,
                                        targets: UnsafeMutableBufferPointer<Int32>)?>(count: G, initial: nil)
        self.replicas = replicas
        self.tokenBuffers = tokenBuffers
        losses = WorkerSlots(count: G, initial: LanguageModelLoss())
        engine = try DataParallelEngine(
            pool: pool, encoder: parameters.encoder, modelLayout: parameters.layout, plan: plan, seed: options.seed,
            batchSize: options.batchSize, deterministicShards: options.deterministicShards,
            initialParameters: initialParameters, initialize: { parameters.initialize($0, seed: options.seed) }
        ) { s in
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

    /// Zeroes every stream's recurrent state (start of an epoch or of an evaluation pass).
    public func resetState() {
        pool.run { [self] w in
            for s in engine.workerShards[w] { replicas[s]!.encoder.resetState() }
        }
    }

    // MARK: Recurrent state (checkpoints)

    /// The global streams whose recurrent state worker `w` carries (its shards', contiguous).
    public func streams(worker w: Int) -> Range<Int> {
        let shards = engine.workerShards[w]
        return shardStreams[shards.lowerBound].lowerBound ..< shardStreams[shards.upperBound - 1].upperBound
    }

    /// The state worker `w` carries into the next window: per layer, h and c of its streams as
    /// [streams, H_l], row j for stream `streams(worker: w).lowerBound + j`.
    public func recurrentState(worker w: Int) -> [(h: [Float], c: [Float])] {
        let shards = engine.workerShards[w]
        return (0 ..< parameters.encoder.config.layerCount).map { l in
            shards.reduce(into: (h: [Float](), c: [Float]())) { state, s in
                let (h, c) = replicas[s]!.encoder.carriedState(layer: l)
                state.h += h
                state.c += c
            }
        }
    }

    /// Sets the carried state of every stream from per-layer [B, H_l] arrays in global stream
    /// order (e.g. a checkpoint's, written with any number of workers).
    /// - Throws: `TrainingError.sizeMismatch` when a layer's arrays are not [B, H_l].
    public func restoreRecurrentState(_ layers: [(h: [Float], c: [Float])]) throws {
        let config = parameters.encoder.config, B = options.batchSize
        guard layers.count == config.layerCount else {
            throw TrainingError.sizeMismatch("recurrent state of \(layers.count) layers, the model has \(config.layerCount)")
        }
        for (l, state) in layers.enumerated() where state.h.count != B * config.outputSize(layer: l)
            || state.c.count != B * config.outputSize(layer: l) {
            throw TrainingError.sizeMismatch("recurrent state of layer \(l) has \(state.h.count) and \(state.c.count) "
                + "values; \(B) streams of \(config.outputSize(layer: l)) need \(B * config.outputSize(layer: l))")
        }
        for (s, streams) in shardStreams.enumerated() {
            for (l, state) in layers.enumerated() {
                let H = config.outputSize(layer: l), rows = streams.lowerBound * H ..< streams.upperBound * H
                replicas[s]!.encoder.setCarriedState(layer: l, h: state.h[rows], c: state.c[rows])
            }
        }
    }

    /// One optimizer step on window `window` of `batches`.
    /// - Throws: `TrainingError.nonFinite` (weights unchanged) when the loss or a gradient is
    ///   NaN or infinite.
    public func trainStep(_ batches: LanguageModelBatches, window: Int) throws -> LanguageModelStepResult {
        try runStep(batches, window: window, update: true)
    }

    /// The summed gradient of one window (w.r.t. the raw weights) without updating anything
    /// (tests, diagnostics): the same computation as `trainStep` up to the all-reduce.
    public func gradient(_ batches: LanguageModelBatches, window: Int) throws -> [Float] {
        _ = try runStep(batches, window: window, update: false)
        return Array(UnsafeBufferPointer(start: engine.reduced, count: parameters.layout.count))
    }

    private func runStep(_ batches: LanguageModelBatches, window: Int, update: Bool) throws -> LanguageModelStepResult {
        precondition(batches.batchSize == options.batchSize && batches.bptt <= options.bptt,
                     "batches were made for another batch size or BPTT length")
        let T = batches.seqLen(ofWindow: window)
        let normalizer = LossNormalizer(streams: options.batchSize, steps: T)
        let outcome = try engine.run(update: update) { [self] w, key, clock in
            let params = UnsafePointer(engine.params.pointer)
            var contribution = 0.0
            for s in engine.workerShards[w] {
                let model = replicas[s]!, grads = engine.gradients[s]!, buffers = tokenBuffers[s]!
                grads.zero()
                let streams = shardStreams[s]
                batches.fill(window: window, streams: streams, inputs: buffers.inputs, targets: buffers.targets)
                losses[s] = model.trainStep(tokens: buffers.inputs.baseAddress!, targets: buffers.targets.baseAddress!,
                                            steps: T, streams: streams.count, params: params, shared: engine.shared,
                                            grads: grads.pointer, dropout: (key, streams.lowerBound),
                                            normalizer: normalizer, regularization: options.regularization)
                clock.timing.forward += Double(model.lastForwardNanoseconds)
                clock.timing.backward += Double(model.lastBackwardNanoseconds)
                contribution += losses[s].crossEntropySum + losses[s].ar + losses[s].tar
            }
            return contribution
        }
        let total = losses.elements.reduce(LanguageModelLoss(), +)   // shard order: independent of W for fixed shards
        let tokens = normalizer.tokens
        return LanguageModelStepResult(loss: total.crossEntropySum / Double(tokens),
                                       accuracy: Double(total.correct) / Double(tokens),
                                       ar: total.ar, tar: total.tar, tokens: tokens, gradNorm: outcome.gradNorm,
                                       timing: outcome.timing)
    }

    /// Mean cross-entropy and accuracy over every window of `batches`, no dropout. Resets the
    /// recurrent state before and after (training continues from a fresh state, as fastai).
    public func evaluate(_ batches: LanguageModelBatches) -> (loss: Double, accuracy: Double) {
        precondition(batches.batchSize == options.batchSize, "validation batches need the training batch size")
        pool.run { [self] w in
            for s in engine.workerShards[w] { replicas[s]!.encoder.resetState() }
            engine.prepare(worker: w, params: engine.params.pointer, key: nil)
        }
        var sum = LanguageModelLoss(), tokens = 0
        for window in 0 ..< batches.windowCount {
            let T = batches.seqLen(ofWindow: window)
            pool.run { [self] w in
                for s in engine.workerShards[w] {
                    let model = replicas[s]!, buffers = tokenBuffers[s]!, streams = shardStreams[s]
                    batches.fill(window: window, streams: streams, inputs: buffers.inputs, targets: buffers.targets)
                    losses[s] = model.evaluate(tokens: buffers.inputs.baseAddress!, targets: buffers.targets.baseAddress!,
                                               steps: T, streams: streams.count, params: engine.params.pointer,
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
