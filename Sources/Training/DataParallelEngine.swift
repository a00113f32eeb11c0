import Dispatch
import Model
import Parallel

/// The parts of a data-parallel training step that do not depend on the model's head: the
/// shared per-step weights, the reduce-scatter of the shards' gradients, clipping and the
/// sharded AdamW update. `LanguageModelTrainer` and `ClassifierTrainer` run their forward and
/// backward between `prepare` and `reduceAndUpdate`, inside one `pool.run`.
final class DataParallelStep {
    let pool: WorkerPool
    let shared: WeightDropState
    let reducer: ReduceScatter
    let optimizerLayout: OptimizerLayout
    /// Shards of each worker (one per worker, or a fixed number in deterministic mode).
    let workerShards: [Range<Int>]
    let gradients: WorkerSlots<AlignedBuffer?>
    private let optimizerShards: WorkerSlots<AdamWShard?>
    private let squaredNorms: WorkerSlots<Double>
    private let timings: WorkerSlots<StepTiming>
    private let errors: WorkerSlots<Error?>
    private var start: UInt64 = 0

    /// - Parameter makeShard: called on the owning worker's thread for each of its shards, after
    ///   that shard's gradient buffer is allocated there (NUMA-local first touch).
    init(pool: WorkerPool, encoder: AWDLSTMParameters, parameterCount: Int, shards G: Int,
         optimizerLayout: OptimizerLayout, makeShard: @escaping (_ shard: Int, _ memory: WorkerMemory) -> Void) {
        let W = pool.workerCount
        self.pool = pool
        self.optimizerLayout = optimizerLayout
        shared = WeightDropState(parameters: encoder)
        reducer = ReduceScatter(count: parameterCount, barrier: pool.barrier, sources: G)
        workerShards = WorkerLayout.split(count: G, parts: W)
        gradients = WorkerSlots(count: G, initial: nil)
        optimizerShards = WorkerSlots(count: W, initial: nil)
        squaredNorms = WorkerSlots(count: W, initial: 0)
        timings = WorkerSlots(count: W, initial: StepTiming())
        errors = WorkerSlots(count: W, initial: nil)
        let groupCount = optimizerLayout.groups.count
        pool.run { [self] w in
            let memory = pool.memory(worker: w)
            for s in workerShards[w] {
                let g = memory.allocate(count: parameterCount)
                gradients[s] = g
                reducer.attach(worker: s, gradient: g.pointer)
                makeShard(s, memory)
            }
            optimizerShards[w] = AdamWShard(range: reducer.slice(worker: w), groupCount: groupCount)
        }
    }

    var workerCount: Int { pool.workerCount }

    /// The number of shards for a minibatch of `batchSize` over `workers` workers: one per worker,
    /// or the fixed count of deterministic mode. Throws before any work when the split is
    /// impossible, saying how to fix it.
    static func shardCount(workers W: Int, deterministicShards: Int?, batchSize: Int) throws -> Int {
        if let d = deterministicShards, d < W {
            throw TrainingError.invalidLayout("deterministic mode with \(d) shards cannot use \(W) workers: "
                + "use at most \(d) workers or more shards")
        }
        let G = deterministicShards ?? W
        try WorkerLayout.validateSplit(batchSize: batchSize, workers: G)
        return G
    }

    /// Checks that `plan` covers the model's `parameterCount` parameters, then copies
    /// `initialParameters` (if any) into `params`.
    static func check(plan: OptimizerPlan, initialParameters: [Float]?, params: FloatBuffer, model: String) throws {
        guard plan.layout.parameterCount == params.count else {
            throw TrainingError.invalidLayout("the optimizer plan covers \(plan.layout.parameterCount) "
                + "parameters but the \(model) has \(params.count)")
        }
        guard let initialParameters else { return }
        guard initialParameters.count == params.count else {
            throw TrainingError.invalidLayout("initial parameters have \(initialParameters.count) values, "
                + "the \(model) needs \(params.count)")
        }
        params.pointer.update(from: initialParameters, count: params.count)
    }

    var reduced: UnsafeMutablePointer<Float> { reducer.reduced }

    /// Coordinator, before `pool.run`: starts the step's clock and idle counters.
    func begin() {
        start = DispatchTime.now().uptimeNanoseconds
        pool.barrier.resetWaitTimes()
    }

    /// Worker `w`: this step's dropout masks and packed recurrent weights (split across
    /// workers, with the barriers that make them complete for everyone). `key` nil: evaluation.
    func prepare(worker w: Int, params: UnsafePointer<Float>, key: DropoutKey?) {
        shared.prepare(params: params, key: key, part: w, parts: workerCount)
        pool.barrier.arriveAndWait(worker: w)
        shared.pack(params: params, part: w, parts: workerCount)
        pool.barrier.arriveAndWait(worker: w)
    }

    /// Worker `w`, after its shards' gradients are complete: reduce-scatter, then (when
    /// `update`) weight-drop masking, global-norm clipping and AdamW on the worker's slice.
    /// Errors are kept for `finish` to rethrow on the coordinator.
    func reduceAndUpdate(worker w: Int, params: UnsafeMutablePointer<Float>, plan: OptimizerPlan,
                         settings: AdamWStepSettings, update: Bool, clock: inout PhaseClock) {
        let slice = reducer.reduce(worker: w)
        clock.timing.allReduce += clock.lap()
        if update {
            shared.maskGradients(reducer.reduced, range: slice)
            do {
                var stepSettings = settings
                if plan.maxGradNorm != nil {
                    squaredNorms[w] = try GradientClipping.sumOfSquares(grads: reducer.reduced, slice: slice,
                                                                         layout: optimizerLayout, trainable: plan.trainable)
                    pool.barrier.arriveAndWait(worker: w)
                    stepSettings.gradScale = try plan.gradScale(totalSquaredNorm: totalSquaredNorm)
                }
                try optimizerShards[w]!.update(params: params, grads: reducer.reduced, layout: optimizerLayout,
                                               settings: stepSettings)
            } catch {
                errors[w] = error
            }
            clock.timing.optimizer += clock.lap()
        }
        timings[w] = clock.timing
    }

    /// The sum of the workers' partial squared norms, in worker order (deterministic).
    var totalSquaredNorm: Double { (0 ..< workerCount).reduce(0.0) { $0 + squaredNorms[$1] } }

    /// A clock for worker `w`'s phases in this step.
    func clock(worker w: Int) -> PhaseClock { PhaseClock(barrier: pool.barrier, worker: w) }

    /// Coordinator, after `pool.run`: rethrows the first worker error, else returns the step's
    /// time split averaged over workers.
    func finish() throws -> StepTiming {
        let W = workerCount
        if let error = errors.elements.compactMap({ $0 }).first {
            for w in 0 ..< W { errors[w] = nil }
            throw error
        }
        var timing = (0 ..< W).reduce(StepTiming()) { $0 + timings[$1] }.scaled(by: 1 / Double(W))
        timing.wall = Double(DispatchTime.now().uptimeNanoseconds - start)
        return timing
    }
}

/// Times one worker's phases of a step, keeping barrier waits out of the phases: each `lap`
/// returns the time since the previous lap minus the time this worker waited at barriers in
/// between, and adds those waits to `timing.idle`.
struct PhaseClock {
    private let barrier: SpinBarrier
    private let worker: Int
    private var last: UInt64
    private var waited: UInt64
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
        defer { last = now; waited = w }
        timing.idle += Double(idle)
        return Double(now - last) - Double(idle)
    }
}
