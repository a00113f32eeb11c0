import Dispatch
import Foundation
import GenomicData
import Kernels
import Model
import Parallel

/// Options of a classifier training run that are not the model's or the optimizer's.
public struct ClassifierTrainerOptions: Sendable {
    /// Sequences per minibatch (all workers together).
    public var batchSize = 64
    /// The encoder's backward is truncated every `bptt` steps (fastai's SentenceEncoder).
    public var bptt = 70
    public var seed: UInt64 = 42
    /// fastai's AR/TAR on the last LSTM layer's output, added to the training loss as fastai's
    /// text learners do for classifiers too (`SequencePenalty`); `.none` turns them off.
    public var regularization = ActivationRegularization()
    /// Deterministic mode (see `LanguageModelTrainerOptions.deterministicShards`).
    public var deterministicShards: Int?
    public init() {}
}

/// One classifier step's results.
public struct ClassifierStepResult: Sendable {
    /// Mean cross-entropy of the minibatch (without AR/TAR, as fastai reports it).
    public var loss: Double
    public var accuracy: Double
    /// The minibatch's AR and TAR, as added to the loss that is backpropagated.
    public var ar: Double
    public var tar: Double
    public var sequences: Int
    /// Global norm of the trainable gradients, before clipping.
    public var gradNorm: Double
    public var timing: StepTiming
}

/// The data-parallel classifier trainer.
///
/// The sequences of each minibatch are divided among the shards (one per worker, or a fixed
/// number in deterministic mode); each worker runs the encoder and the masked concat pooling
/// for its sequences and writes its rows of the pooled features. Worker 0 then runs the small
/// head (BatchNorm -> Linear -> ReLU -> BatchNorm -> Linear, ~0.1% of the FLOPs) over the whole
/// minibatch, so BatchNorm's statistics are those of the whole minibatch whatever the number
/// of workers (the synchronized BatchNorm a multi-process setup needs comes for free in shared
/// memory). The workers backpropagate their rows; gradients are reduce-scattered and each
/// worker applies AdamW to its slice, as in `LanguageModelTrainer`.
///
/// With several processes (`group`), each process pools the rows of its shards and the pooled
/// features (B x 3E floats, ~300 KB for the paper model) are all-gathered, so every process runs
/// the head over the whole minibatch: BatchNorm stays synchronized and its running statistics
/// identical everywhere. The head's gradient is added once, by the process holding shard 0.
public final class ClassifierTrainer: DataParallelTrainer {
    public let parameters: ClassifierParameters
    public let options: ClassifierTrainerOptions
    public let engine: DataParallelEngine
    /// BatchNorm running statistics (written by worker 0 only).
    public let statistics: FloatBuffer
    public let maxLength: Int
    /// While the encoder is frozen: run it as evaluation does (no dropout) under the training
    /// head, the `--stages head` probe. Set per stage by the run; false is fastai's `freeze()`
    /// (the frozen encoder keeps its dropouts).
    public var encoderInEvalMode = false

    private let head: ClassifierHead
    private let features: FloatBuffer          // [B, 3E]: every shard's pooled rows
    // Per-shard state, created by the owning worker inside `pool.run`.
    private let encoders: WorkerSlots<ClassifierEncoder?>
    private let tokenBuffers: WorkerSlots<UnsafeMutableBufferPointer<Int32>?>
    /// Per shard: its share of this step's AR and TAR.
    private let penalties: WorkerSlots<SequencePenalty>
    private var headResult: (lossSum: Double, correct: Int) = (0, 0)

    /// - Parameters:
    ///   - headHidden: units of the head's hidden layer (50 in ULMFiT).
    ///   - maxLength: the longest sequence (in tokens) any batch will hold.
    ///   - initialParameters: e.g. a fine-tuned encoder copied into a fresh classifier layout.
    public init(config: AWDLSTMConfig, classCount: Int, headHidden: Int = 50, options: ClassifierTrainerOptions,
                maxLength: Int, pool: WorkerPool, plan: OptimizerPlan, initialParameters: [Float]? = nil,
                group: ProcessGroup = SingleProcess()) throws {
        try config.validate()
        let parameters = ClassifierParameters(config: config, classCount: classCount, headHidden: headHidden)
        self.parameters = parameters
        self.options = options
        self.maxLength = maxLength
        let statistics = FloatBuffer(count: parameters.statisticsCount)
        self.statistics = statistics
        let shards = try DataParallelEngine.shardPlan(workers: pool.workerCount, deterministicShards: options.deterministicShards,
                                                      batchSize: options.batchSize, group: group)
        let G = shards.count
        head = ClassifierHead(parameters: parameters, capacity: options.batchSize)
        features = FloatBuffer(count: options.batchSize * 3 * config.embeddingSize)
        let encoders = WorkerSlots<ClassifierEncoder?>(count: G, initial: nil)
        let tokenBuffers = WorkerSlots<UnsafeMutableBufferPointer<Int32>?>(count: G, initial: nil)
        self.encoders = encoders
        self.tokenBuffers = tokenBuffers
        penalties = WorkerSlots(count: G, initial: SequencePenalty())
        let capacity = (options.batchSize + G - 1) / G
        engine = try DataParallelEngine(
            pool: pool, encoder: parameters.encoder, modelLayout: parameters.layout, plan: plan, seed: options.seed,
            batchSize: options.batchSize, deterministicShards: options.deterministicShards, group: group, shards: shards,
            initialParameters: initialParameters,
            initialize: { parameters.initialize($0, statistics: statistics.pointer, seed: options.seed) }
        ) { s in
            encoders[s] = ClassifierEncoder(parameters: parameters.encoder, streamCapacity: capacity,
                                            stepCapacity: maxLength, bptt: options.bptt)
            tokenBuffers[s] = .allocate(capacity: capacity * maxLength)
        }
    }

    deinit {
        for s in 0 ..< tokenBuffers.count { tokenBuffers[s]?.deallocate() }
    }

    /// One optimizer step on `batch`.
    /// - Throws: `TrainingError.nonFinite` (weights unchanged) when the loss or a gradient is
    ///   NaN or infinite.
    public func trainStep(_ batch: ClassificationBatches.Batch) throws -> ClassifierStepResult {
        try runStep(batch, update: true)
    }

    /// The summed gradient of one batch without updating (tests); BatchNorm running statistics
    /// are updated as in a training step.
    public func gradient(_ batch: ClassificationBatches.Batch) throws -> [Float] {
        _ = try runStep(batch, update: false)
        return Array(UnsafeBufferPointer(start: engine.reduced, count: parameters.layout.count))
    }

    /// Rows of shard `s` for a batch of `b` sequences.
    private func rows(shard s: Int, of b: Int) -> Range<Int> {
        WorkerLayout.split(count: b, parts: shardCount)[s]
    }

    /// Several processes: makes every process's pooled rows of a batch of `b` sequences, cut into
    /// `shards` shards, everyone's (`features`, rank after rank = shard order); returns the time spent.
    @discardableResult
    private func gatherFeatures(rows b: Int, shards: Int, label: String) -> UInt64 {
        let group = engine.group
        guard group.size > 1 else { return 0 }
        let start = DispatchTime.now().uptimeNanoseconds
        let split = WorkerLayout.split(count: b, parts: shards), width = 3 * parameters.encoder.config.embeddingSize
        let counts = engine.processShards.ranges.map { range in
            range.clamped(to: 0 ..< shards).reduce(0) { $0 + split[$1].count } * width
        }
        group.allGather(features.pointer, counts: counts, label: label)
        return DispatchTime.now().uptimeNanoseconds - start
    }

    /// The head's parameters, whose gradient only the process holding shard 0 adds.
    private var headRanges: [Range<Int>] {
        optimizerLayout.groups.first { $0.name == "head" }?.ranges ?? []
    }

    /// The encoder gradients the groups flagged `trainable` need (fastai's group names:
    /// `embedding`, `rnn.L`).
    public func gradientScope(trainable: [Bool]) -> EncoderGradientScope {
        func trains(_ name: String) -> Bool {
            optimizerLayout.groups.firstIndex { $0.name == name }.map { trainable[$0] } ?? false
        }
        return EncoderGradientScope(embedding: trains("embedding"),
                                    layers: (0 ..< parameters.encoder.config.layerCount).map { trains("rnn.\($0)") })
    }

    /// Copies rows `rows` of the batch's time-major tokens into `buffer` ([L * rows.count]).
    private func gather(_ batch: ClassificationBatches.Batch, rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Int32>) {
        let B = batch.batchSize, n = rows.count
        for t in 0 ..< batch.maxLength {
            for (j, row) in rows.enumerated() { buffer[t * n + j] = batch.tokens[t * B + row] }
        }
    }

    private func runStep(_ batch: ClassificationBatches.Batch, update: Bool) throws -> ClassifierStepResult {
        let b = batch.batchSize, E = parameters.encoder.config.embeddingSize
        precondition(b <= options.batchSize && b >= shardCount && batch.maxLength <= maxLength,
                     "batch of \(b) x \(batch.maxLength) does not fit the trainer (\(options.batchSize) x \(maxLength), \(shardCount) shards)")
        let plan = self.plan
        // Frozen groups get no gradient, and the backward stops at the lowest trainable one
        // (skipped entirely while the whole encoder is frozen).
        let scope = gradientScope(trainable: plan.trainable)
        // A probe stage runs the frozen encoder as evaluation does (no dropout masks, plain W_hh);
        // the head keeps its dropout.
        let encoderEval = encoderInEvalMode
        precondition(!encoderEval || scope.isEmpty, "the encoder runs in evaluation mode only while it is frozen")
        let lengths = batch.lengths.map { Int32($0) }
        // AR/TAR are means over the whole minibatch's real positions, whatever the shards.
        let regularization = (options.regularization, SequenceNormalizer(lengths: batch.lengths))
        let outcome = try engine.run(update: update, encoderDropout: !encoderEval) { [self] w, key, clock in
            let params = UnsafePointer(engine.params.pointer)
            // Encoder and pooling of this worker's sequences into their rows of `features`.
            var penalty = 0.0
            for s in engine.workerShards[w] {
                let mine = rows(shard: s, of: b)
                engine.gradients[s]!.zero()
                gather(batch, rows: mine, into: tokenBuffers[s]!)
                penalties[s] = encoders[s]!.forward(
                    tokens: tokenBuffers[s]!.baseAddress!, lengths: Array(lengths[mine]), steps: batch.maxLength,
                    params: params, shared: engine.shared, dropout: encoderEval ? nil : (key, mine.lowerBound),
                    regularization: regularization, features: features.pointer + mine.lowerBound * 3 * E)
                penalty += penalties[s].ar + penalties[s].tar
            }
            pool.barrier.arriveAndWait(worker: w)
            // The head over the whole minibatch, on worker 0 (of every process); its gradients go
            // to the buffer of this process's first shard, and count only where that is shard 0.
            if w == 0 {
                engine.communicated(gatherFeatures(rows: b, shards: shardCount, label: "pooled features, step \(engine.step + 1)"),
                                    clock: &clock)
                let first = engine.workerShards[0].lowerBound, grads = engine.gradients[first]!.pointer
                head.forward(features: features.pointer, rows: b, params: params, statistics: statistics.pointer,
                             dropout: key)
                headResult = batch.labels.withUnsafeBufferPointer {
                    head.lossAndBackward(labels: $0.baseAddress!, params: params, grads: grads, gradScale: 1 / Float(b))
                }
                if first != 0 { for range in headRanges { (grads + range.lowerBound).update(repeating: 0, count: range.count) } }
            }
            pool.barrier.arriveAndWait(worker: w)
            clock.timing.forward = clock.lap()
            if !scope.isEmpty {
                for s in engine.workerShards[w] {
                    let mine = rows(shard: s, of: b)
                    encoders[s]!.backward(dFeatures: head.dFeatures.pointer + mine.lowerBound * 3 * E, params: params,
                                          shared: engine.shared, grads: engine.gradients[s]!.pointer, scope: scope)
                }
            }
            clock.timing.backward = clock.lap()
            return (w == 0 ? headResult.lossSum : 0) + penalty
        }
        let penalty = penalties.elements.reduce(SequencePenalty(), +)   // shard order: independent of W for fixed shards
        return ClassifierStepResult(loss: headResult.lossSum / Double(b), accuracy: Double(headResult.correct) / Double(b),
                                    ar: penalty.ar, tar: penalty.tar, sequences: b, gradNorm: outcome.gradNorm,
                                    timing: outcome.timing)
    }

    /// Class probabilities of every sequence of `batches` (evaluation mode: no dropout,
    /// BatchNorm running statistics), in batch order, with the mean loss and accuracy.
    /// - Throws: `TrainingError.nonFiniteOutput` when a logit is NaN or infinite (weights or
    ///   statistics damaged): never a silent accuracy from NaN probabilities.
    public func predict(_ batches: ClassificationBatches) throws -> (probabilities: [[Float]], loss: Double, accuracy: Double) {
        let E = parameters.encoder.config.embeddingSize, C = parameters.classCount
        let params = engine.params
        pool.run { [self] w in engine.prepare(worker: w, params: params.pointer, key: nil) }
        var probabilities: [[Float]] = []
        var lossSum = 0.0, correct = 0
        for i in 0 ..< batches.batchCount {
            let batch = batches.batch(i)
            let b = batch.batchSize
            let lengths = batch.lengths.map { Int32($0) }
            let shards = min(shardCount, b)
            pool.run { [self] w in
                for s in engine.workerShards[w] where s < shards {
                    let mine = WorkerLayout.split(count: b, parts: shards)[s]
                    gather(batch, rows: mine, into: tokenBuffers[s]!)
                    encoders[s]!.forward(tokens: tokenBuffers[s]!.baseAddress!, lengths: Array(lengths[mine]),
                                         steps: batch.maxLength, params: params.pointer, shared: engine.shared,
                                         dropout: nil, features: features.pointer + mine.lowerBound * 3 * E)
                }
            }
            gatherFeatures(rows: b, shards: shards, label: "pooled features, prediction batch \(i)")
            head.forward(features: features.pointer, rows: b, params: params.pointer, statistics: statistics.pointer,
                         dropout: nil)
            let (l, c) = batch.labels.withUnsafeBufferPointer { head.loss(labels: $0.baseAddress!) }
            lossSum += l
            correct += c
            for r in 0 ..< b {
                let z = Array(UnsafeBufferPointer(start: head.logits.pointer + r * C, count: C))
                guard z.allSatisfy(\.isFinite) else {
                    throw TrainingError.nonFiniteOutput("logits \(z) of sequence \(probabilities.count) "
                        + "(the weights or BatchNorm statistics hold NaN or infinite values)")
                }
                let m = z.max()!
                let e = z.map { expf($0 - m) }
                let s = e.reduce(0, +)
                probabilities.append(e.map { $0 / s })
            }
        }
        let n = max(probabilities.count, 1)
        return (probabilities, lossSum / Double(n), Double(correct) / Double(n))
    }
}
