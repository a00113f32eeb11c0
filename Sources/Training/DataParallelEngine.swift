import Dispatch
import Kernels
import Model
import Parallel

/// The model-independent half of data-parallel training, shared by `LanguageModelTrainer` and
/// `ClassifierTrainer`: the one copy of the weights, the stage plan and step counter, the
/// per-step shared weights (dropout masks, packed W_hh), the reduce-scatter of the shards'
/// gradients, the global gradient norm and the sharded AdamW update.
///
/// One step, `run(update:body:)`, on every worker w (inside one `pool.run`):
/// 1. prepare: this step's dropout masks and packed recurrent weights (split across workers);
/// 2. `body(w)`: forward and backward of w's shards, each into its own gradient buffer;
/// 3. reduce-scatter: w sums its slice of every shard's gradient in shard order, then applies
///    the weight-drop mask to that slice;
/// 4. norm: the squared gradient norm is summed per fixed block of `normBlock` floats, blocks
///    spread over the workers, and the block sums are added in block order, so the norm has the
///    same bits for any worker count (deterministic mode stays deterministic with clipping);
/// 5. unless the loss or the norm is not finite: clipping scale, AdamW on w's slice.
///
/// A step whose loss or gradient is NaN or infinite changes nothing (no worker updates) and
/// `run` throws `TrainingError.nonFinite` naming the step and the first tensor at fault: the
/// weights stay those of the last good step. The check is always on: it reads numbers the step
/// computes anyway (the norm pass costs ~0.1% of a paper-model step).
///
/// Several processes (`group`, e.g. MPI under mpirun): the shards are numbered across the job
/// (`ProcessShards`), each process computes its own, and step 3 is a `HierarchicalReducer`:
/// the workers reduce in shared memory, then the processes combine their sums, so every process
/// holds the same gradient and applies the same update to identical weights. The loss check
/// covers every process's shards.
public final class DataParallelEngine {
    public let pool: WorkerPool
    /// The shared weights: one copy, read in place by every worker, each worker updating its slice.
    public let params: FloatBuffer
    /// The model's tensors (names the tensor at fault when a gradient is not finite).
    public let modelLayout: ParameterLayout
    public let optimizerLayout: OptimizerLayout
    public let seed: UInt64
    /// Gradient shards of the whole job: one per worker of every process, or a fixed number in
    /// deterministic mode.
    public let shardCount: Int
    /// The processes of the job (`SingleProcess` by default) and the global shards each holds.
    public let group: ProcessGroup
    public let processShards: ProcessShards
    /// Shards of each of this process's workers (global indices, contiguous, as even as possible).
    public let workerShards: [Range<Int>]
    let shared: WeightDropState
    let reducer: HierarchicalReducer
    let gradients: WorkerSlots<FloatBuffer?>
    /// How the gradient buffers were placed (hwloc membind or first touch).
    public private(set) var memoryPolicy: MemoryPolicy = .firstTouch
    private var staged: StagedPlan
    private let optimizerShards: WorkerSlots<AdamWShard?>
    /// Per worker: its loss contribution this step (only its finiteness is used).
    private let losses: WorkerSlots<Double>
    /// Per fixed block of the gradient: its sum of squares over trainable groups.
    private let blockNorms: UnsafeMutableBufferPointer<Double>
    private let timings: WorkerSlots<StepTiming>
    private let errors: WorkerSlots<Error?>
    private var start: UInt64 = 0
    /// This step's global squared gradient norm and whether the step was skipped as non-finite.
    private var squaredNorm = 0.0
    private var nonFinite = false
    /// Processes whose loss was not finite this step (several processes only).
    private var nonFiniteRanks: [Int] = []
    /// Wall time of this step's exchanges with other processes outside the reducer (ns).
    private var extraCommunication: UInt64 = 0

    /// Floats per norm block: a fixed size, independent of the worker count.
    static let normBlock = 16_384

    /// Starts the engine on `pool`: allocates each shard's gradient buffer on its worker and
    /// each worker's optimizer shard there (NUMA-local first touch).
    /// - Parameters:
    ///   - shards: the global shards of every process (`shardPlan`); this process computes
    ///     `shards.ranges[group.rank]`.
    ///   - makeShard: called on the owning worker's thread for each of its shards (global index),
    ///     after that shard's gradient buffer is allocated there (the model's replica goes here).
    /// - Throws: `LayoutError`/`TrainingError` when the batch cannot be split over the workers
    ///   or shards, the plan does not cover the model, or the processes disagree on the
    ///   settings or the initial weights.
    init(pool: WorkerPool, encoder: AWDLSTMParameters, modelLayout: ParameterLayout, plan: OptimizerPlan,
         seed: UInt64, batchSize: Int, deterministicShards: Int?, group: ProcessGroup = SingleProcess(),
         shards: ProcessShards? = nil, initialParameters: [Float]?,
         initialize: (UnsafeMutablePointer<Float>) -> Void,
         makeShard: @escaping (_ shard: Int) -> Void) throws {
        let W = pool.workerCount, P = modelLayout.count
        let processShards = try shards ?? Self.shardPlan(workers: W, deterministicShards: deterministicShards,
                                                         batchSize: batchSize, group: group)
        let G = processShards.count, mine = processShards.ranges[group.rank]
        guard plan.layout.parameterCount == P else {
            throw TrainingError.invalidLayout("the optimizer plan covers \(plan.layout.parameterCount) "
                + "parameters but the model has \(P)")
        }
        if let initialParameters, initialParameters.count != P {
            throw TrainingError.invalidLayout("initial parameters have \(initialParameters.count) values, "
                + "the model needs \(P)")
        }
        self.pool = pool
        self.modelLayout = modelLayout
        optimizerLayout = plan.layout
        self.seed = seed
        shardCount = G
        self.group = group
        self.processShards = processShards
        staged = StagedPlan(plan)
        params = FloatBuffer(count: P)
        initialize(params.pointer)
        if let initialParameters { params.pointer.update(from: initialParameters, count: P) }
        try Self.checkAgreement(group: group, params: params, settings: [P, batchSize, G, deterministicShards ?? 0,
                                                                         Int(truncatingIfNeeded: seed)])
        shared = WeightDropState(parameters: encoder)
        reducer = HierarchicalReducer(count: P, barrier: pool.barrier, group: group, shards: processShards,
                                      ordered: deterministicShards != nil)
        workerShards = WorkerLayout.split(count: mine.count, parts: W).map {
            mine.lowerBound + $0.lowerBound ..< mine.lowerBound + $0.upperBound
        }
        gradients = WorkerSlots(count: G, initial: nil)
        optimizerShards = WorkerSlots(count: W, initial: nil)
        losses = WorkerSlots(count: W, initial: 0)
        blockNorms = .allocate(capacity: (P + Self.normBlock - 1) / Self.normBlock)
        blockNorms.initialize(repeating: 0)
        timings = WorkerSlots(count: W, initial: StepTiming())
        errors = WorkerSlots(count: W, initial: nil)
        let policies = WorkerSlots<MemoryPolicy>(count: G, initial: .firstTouch)
        let groupCount = optimizerLayout.groups.count
        pool.run { [self] w in
            let memory = pool.memory(worker: w)
            for s in workerShards[w] {
                let (g, policy) = memory.allocate(count: P)
                gradients[s] = g
                policies[s] = policy
                reducer.attach(source: s - mine.lowerBound, gradient: g.pointer)
                makeShard(s)
            }
            optimizerShards[w] = AdamWShard(range: reducer.slice(worker: w), groupCount: groupCount)
        }
        memoryPolicy = policies[mine.lowerBound]
    }

    deinit { blockNorms.deallocate() }

    public var workerCount: Int { pool.workerCount }

    /// The number of shards for a minibatch of `batchSize` over `workers` workers: one per worker,
    /// or the fixed count of deterministic mode. Throws before any work when the split is
    /// impossible, saying how to fix it.
    static func shardCount(workers W: Int, deterministicShards: Int?, batchSize: Int) throws -> Int {
        if let d = deterministicShards {
            guard d >= 1 else {
                throw TrainingError.invalidHyperparameter(name: "deterministicShards", value: Double(d),
                                                          reason: "must be at least 1")
            }
            guard d >= W else {
                throw TrainingError.invalidLayout("deterministic mode with \(d) shards cannot use \(W) workers: "
                    + "use at most \(d) workers or more shards")
            }
        }
        let G = deterministicShards ?? W
        try WorkerLayout.validateSplit(batchSize: batchSize, workers: G)
        return G
    }

    /// The global shards of a minibatch over the job's processes: one per worker of every
    /// process (each process says how many workers it has), or deterministic mode's fixed count
    /// cut evenly over the processes. Collective: every process calls it. Throws before any work
    /// when the split is impossible, saying how to fix it.
    public static func shardPlan(workers W: Int, deterministicShards: Int?, batchSize: Int,
                                 group: ProcessGroup) throws -> ProcessShards {
        guard group.size > 1 else {
            return try ProcessShards(shards: shardCount(workers: W, deterministicShards: deterministicShards,
                                                        batchSize: batchSize), processes: 1)
        }
        let workers = group.allGather([Double(W)], label: "the worker counts").map { Int($0[0]) }
        let shards: ProcessShards
        if let d = deterministicShards {
            shards = try ProcessShards(shards: d, processes: group.size)
            let fewest = zip(shards.ranges, workers).filter { $0.0.count < $0.1 }
            if let (range, w) = fewest.first {
                throw TrainingError.invalidLayout("deterministic mode with \(d) shards over \(group.size) processes gives a "
                    + "process \(range.count) shards for its \(w) workers: use --deterministic-shards "
                    + "\(group.size * workers.max()!) or more, or fewer workers")
            }
        } else {
            shards = ProcessShards(workersPerProcess: workers)
        }
        try WorkerLayout.validateSplit(batchSize: batchSize, workers: shards.count)
        return shards
    }

    /// Several processes: stops (on every process alike) when some process has other settings or
    /// other initial weights than rank 0, e.g. a node that reads another version of the data.
    private static func checkAgreement(group: ProcessGroup, params: FloatBuffer, settings: [Int]) throws {
        guard group.size > 1 else { return }
        var hash = Fingerprint()
        for value in settings { hash.add(UInt64(bitPattern: Int64(value))) }
        let differingSettings = group.ranksDiffering(from: hash.value, label: "the training settings")
        if !differingSettings.isEmpty {
            throw TrainingError.processesDisagree(what: "training settings (parameters, batch, shards, seed)",
                                                  ranks: differingSettings)
        }
        var weights = Fingerprint()
        weights.add(params.pointer, count: params.count)
        let differingWeights = group.ranksDiffering(from: weights.value, label: "the initial weights")
        if !differingWeights.isEmpty {
            throw TrainingError.processesDisagree(what: "initial weights", ranks: differingWeights)
        }
    }

    // MARK: Stages and steps

    /// The current stage's optimizer plan.
    public var plan: OptimizerPlan { staged.plan }
    /// Optimizer steps taken so far (keys the dropout masks).
    public var step: Int { staged.step }
    /// The step at which the current plan's schedule started (see `beginStage`).
    public var stageStart: Int { staged.stageStart }

    /// Starts a new stage (fastai: another `fit_one_cycle`, e.g. after `freeze_to`): the new
    /// plan's schedule counts from the next step. The optimizer state carries over, as fastai's
    /// optimizer does between fits.
    /// - Throws: `TrainingError.invalidLayout` if the plan's layout is not this model's.
    public func beginStage(_ plan: OptimizerPlan) throws { try staged.beginStage(plan) }

    /// Continues a run from a checkpoint: `plan` is the plan of the stage the run was in,
    /// `step` the optimizer steps taken and `stageStart` the step at which that stage began.
    /// The weights and each worker's optimizer shard are restored separately (`params`,
    /// `optimizerShard(worker:)`).
    /// - Throws: `TrainingError.invalidLayout` for another model's plan or counters out of order.
    public func resume(plan: OptimizerPlan, step: Int, stageStart: Int) throws {
        try staged.resume(plan, step: step, stageStart: stageStart)
    }

    /// What one `run` measured.
    struct StepOutcome {
        var timing: StepTiming
        /// Global norm of the trainable gradients (before clipping).
        var gradNorm: Double
    }

    /// One data-parallel step (see the type's description). `body(w, clock)` runs worker w's
    /// shards forward and backward into `gradients[s]` (zeroing them first) and returns the
    /// worker's loss contribution. With `update` false nothing is updated and the step counter
    /// stays (gradients for tests and diagnostics: read `reduced` afterwards).
    /// - Throws: `TrainingError.nonFinite` (nothing updated) or an optimizer error.
    /// `encoderDropout` false prepares the recurrent weights and embedding without dropout masks
    /// (a frozen encoder in evaluation mode under a training head).
    func run(update: Bool, encoderDropout: Bool = true,
             body: @escaping (_ worker: Int, _ key: DropoutKey, _ clock: inout PhaseClock) -> Double)
        throws -> StepOutcome {
        let key = DropoutKey(seed: seed, step: step)
        let settings = try staged.settings()
        let plan = self.plan
        start = DispatchTime.now().uptimeNanoseconds
        pool.barrier.resetWaitTimes()
        reducer.label = "gradient all-reduce, step \(step + 1)"
        extraCommunication = 0
        pool.run { [self] w in
            var clock = PhaseClock(barrier: pool.barrier, worker: w)
            prepare(worker: w, params: params.pointer, key: encoderDropout ? key : nil)
            clock.timing.prepare = clock.lap()
            losses[w] = body(w, key, &clock)
            _ = clock.lap()
            reduceAndUpdate(worker: w, plan: plan, settings: settings, update: update, clock: &clock)
        }
        let timing = try finish()
        if nonFinite { throw nonFiniteError() }
        if update { staged.advance() }
        return StepOutcome(timing: timing, gradNorm: squaredNorm.squareRoot())
    }

    /// Worker `w`: this step's dropout masks and packed recurrent weights (split across
    /// workers, with the barriers that make them complete for everyone). `key` nil: evaluation.
    func prepare(worker w: Int, params: UnsafePointer<Float>, key: DropoutKey?) {
        shared.prepare(params: params, key: key, part: w, parts: workerCount)
        pool.barrier.arriveAndWait(worker: w)
        shared.pack(params: params, part: w, parts: workerCount)
        pool.barrier.arriveAndWait(worker: w)
    }

    /// Worker `w`, after its shards' gradients are complete: reduce-scatter, weight-drop
    /// masking, the global norm, then (when `update` and everything is finite) clipping and
    /// AdamW on the worker's slice. Errors are kept for `finish` to rethrow on the coordinator.
    private func reduceAndUpdate(worker w: Int, plan: OptimizerPlan, settings: AdamWStepSettings, update: Bool,
                                 clock: inout PhaseClock) {
        let slice = reducer.reduce(worker: w)
        if w == 0 { clock.exclude(reducer.communicationNanoseconds) }
        shared.maskGradients(reducer.reduced, range: slice)
        pool.barrier.arriveAndWait(worker: w)   // every slice is reduced and masked
        clock.timing.allReduce += clock.lap()
        do {
            let blocks = WorkerLayout.split(count: blockNorms.count, parts: workerCount)[w]
            for b in blocks {
                let range = b * Self.normBlock ..< min((b + 1) * Self.normBlock, reducer.count)
                blockNorms[b] = try GradientClipping.sumOfSquares(grads: reducer.reduced, slice: range,
                                                                  layout: optimizerLayout, trainable: plan.trainable)
            }
            // Every process must take the same decision: its losses are its own (the gradient,
            // and with it the norm, is already the same everywhere).
            if w == 0 && group.size > 1 { gatherLossChecks(clock: &clock) }
            pool.barrier.arriveAndWait(worker: w)   // every block sum is written
            let total = blockNorms.reduce(0, +)     // block order: the same bits on every worker, for any W
            let finite = total.isFinite && (0 ..< workerCount).allSatisfy { losses[$0].isFinite } && nonFiniteRanks.isEmpty
            if w == 0 { squaredNorm = total; nonFinite = !finite }
            if update && finite {
                var stepSettings = settings
                stepSettings.gradScale = try plan.gradScale(totalSquaredNorm: total)
                try optimizerShards[w]!.update(params: params.pointer, grads: reducer.reduced, layout: optimizerLayout,
                                               settings: stepSettings)
            }
        } catch {
            errors[w] = error
        }
        clock.timing.optimizer += clock.lap()
        timings[w] = clock.timing
    }

    /// Worker 0, inside `run`: records `nanoseconds` spent exchanging with other processes (e.g. a
    /// trainer's all-gather), counted as communication and kept out of the current phase.
    func communicated(_ nanoseconds: UInt64, clock: inout PhaseClock) {
        extraCommunication += nanoseconds
        clock.exclude(nanoseconds)
    }

    /// Worker 0, several processes: which processes have a loss that is not finite this step.
    private func gatherLossChecks(clock: inout PhaseClock) {
        let start = DispatchTime.now().uptimeNanoseconds
        let local: UInt8 = (0 ..< workerCount).allSatisfy { losses[$0].isFinite } ? 1 : 0
        let all = group.allGather(bytes: [local], label: "the loss check, step \(step + 1)")
        nonFiniteRanks = all.indices.filter { all[$0] != [1] }
        communicated(DispatchTime.now().uptimeNanoseconds - start, clock: &clock)
    }

    /// Coordinator, after `pool.run`: rethrows the first worker error, else returns the step's
    /// time split averaged over workers. Communication with other processes is worker 0's wall
    /// time in the exchanges; the other workers' wait for it is taken out of `idle`.
    private func finish() throws -> StepTiming {
        let W = workerCount
        if let error = errors.elements.compactMap({ $0 }).first {
            for w in 0 ..< W { errors[w] = nil }
            throw error
        }
        var timing = (0 ..< W).reduce(StepTiming()) { $0 + timings[$1] }.scaled(by: 1 / Double(W))
        let communication = Double(reducer.communicationNanoseconds + extraCommunication)
        timing.communication = communication
        timing.idle = max(0, timing.idle - communication * Double(W - 1) / Double(W))
        timing.wall = Double(DispatchTime.now().uptimeNanoseconds - start)
        return timing
    }

    /// Names what is not finite: the loss, or the first tensor with a NaN/infinite gradient.
    private func nonFiniteError() -> TrainingError {
        if let bad = (0 ..< workerCount).first(where: { !losses[$0].isFinite }) {
            let who = group.size > 1 ? "worker \(bad) of rank \(group.rank)" : "worker \(bad)"
            return .nonFinite(step: step + 1, what: "the loss is \(losses[bad]) (\(who))")
        }
        if let rank = nonFiniteRanks.first {
            return .nonFinite(step: step + 1, what: "the loss is not finite on rank \(rank)")
        }
        for spec in modelLayout.specs {
            if let i = spec.range.first(where: { !reducer.reduced[$0].isFinite }) {
                return .nonFinite(step: step + 1, what: "the gradient of \(spec.name) is \(reducer.reduced[i]) "
                    + "at element \(i - spec.offset)")
            }
        }
        return .nonFinite(step: step + 1, what: "the squared gradient norm overflowed to \(squaredNorm)")
    }

    /// The summed gradient of the last `run` (all P floats after a run).
    var reduced: UnsafeMutablePointer<Float> { reducer.reduced }

    /// The optimizer shard of worker `w` (its slice of the AdamW moments and the step counts).
    public func optimizerShard(worker w: Int) -> AdamWShard { optimizerShards[w]! }
}

/// Times one worker's phases of a step, keeping barrier waits out of the phases: each `lap`
/// returns the time since the previous lap minus the time this worker waited at barriers in
/// between, and adds those waits to `timing.idle`.
struct PhaseClock {
    private let barrier: SpinBarrier
    private let worker: Int
    private var last: UInt64
    private var waited: UInt64
    /// Time since the last lap spent communicating with other processes (counted in
    /// `StepTiming.communication` by the engine, so kept out of the phase).
    private var excluded: UInt64 = 0
    var timing = StepTiming()

    init(barrier: SpinBarrier, worker: Int) {
        self.barrier = barrier
        self.worker = worker
        last = DispatchTime.now().uptimeNanoseconds
        waited = barrier.waitedNanoseconds(worker: worker)
    }

    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds, w = barrier.waitedNanoseconds(worker: worker)
        let idle = w - waited
        defer { last = now; waited = w; excluded = 0 }
        timing.idle += Double(idle)
        return max(0, Double(now - last) - Double(idle) - Double(excluded))
    }

    /// Keeps `nanoseconds` of communication out of the current phase.
    mutating func exclude(_ nanoseconds: UInt64) { excluded += nanoseconds }
}
