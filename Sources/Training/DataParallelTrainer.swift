import Kernels
import Parallel

/// What the two data-parallel trainers have in common, served by their `DataParallelEngine`:
/// the shared weights, the stage plan, the step counter and the worker pool.
public protocol DataParallelTrainer: AnyObject {
    var engine: DataParallelEngine { get }
}

extension DataParallelTrainer {
    /// The shared weights (one copy, read in place by every worker).
    public var params: FloatBuffer { engine.params }
    public var pool: WorkerPool { engine.pool }
    public var workerCount: Int { engine.workerCount }
    /// Gradient shards per step: one per worker, or the fixed count of deterministic mode.
    public var shardCount: Int { engine.shardCount }
    /// The current stage's optimizer plan.
    public var plan: OptimizerPlan { engine.plan }
    public var optimizerLayout: OptimizerLayout { engine.optimizerLayout }
    /// Optimizer steps taken so far (keys the dropout masks).
    public var step: Int { engine.step }
    /// The step at which the current plan's schedule started (see `beginStage`).
    public var stageStart: Int { engine.stageStart }
    /// How memory near each worker was obtained (hwloc membind or first touch).
    public var memoryPolicy: String { "\(engine.memoryPolicy)" }

    /// Starts a new stage (fastai: another `fit_one_cycle`, e.g. after `freeze_to`): the new
    /// plan's schedule counts from the next step; the optimizer state carries over.
    /// - Throws: `TrainingError.invalidLayout` if the plan's layout is not this model's.
    public func beginStage(_ plan: OptimizerPlan) throws { try engine.beginStage(plan) }

    /// Continues from a checkpoint's counters (see `DataParallelEngine.resume`).
    public func resume(plan: OptimizerPlan, step: Int, stageStart: Int) throws {
        try engine.resume(plan: plan, step: step, stageStart: stageStart)
    }
}
