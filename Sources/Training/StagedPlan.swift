/// The optimizer plan of the current training stage and where the run stands in it: the
/// bookkeeping fastai-style successive `fit_one_cycle` stages need.
struct StagedPlan {
    private(set) var plan: OptimizerPlan
    /// Optimizer steps taken so far (keys the dropout masks).
    private(set) var step = 0
    /// The step at which the current plan's schedule started.
    private(set) var stageStart = 0

    init(_ plan: OptimizerPlan) { self.plan = plan }

    /// Replaces the plan; its schedule counts from the next step.
    /// - Throws: `TrainingError.invalidLayout` if the plan's layer groups are not the model's.
    mutating func beginStage(_ next: OptimizerPlan) throws {
        guard next.layout == plan.layout else {
            throw TrainingError.invalidLayout("a stage's plan must use the trainer's layer groups")
        }
        plan = next
        stageStart = step
    }

    /// Continues a run saved at `step` in a stage that started at `stageStart` with `plan`
    /// (a checkpoint's counters).
    /// - Throws: `TrainingError.invalidLayout` for another model's layer groups or counters
    ///   out of order.
    mutating func resume(_ saved: OptimizerPlan, step: Int, stageStart: Int) throws {
        guard saved.layout == plan.layout else {
            throw TrainingError.invalidLayout("a stage's plan must use the trainer's layer groups")
        }
        guard step >= 0, stageStart >= 0, stageStart <= step else {
            throw TrainingError.invalidLayout("cannot resume at step \(step) of a stage that started at step \(stageStart)")
        }
        plan = saved
        self.step = step
        self.stageStart = stageStart
    }

    /// This step's settings (the schedule counts from the stage's start).
    func settings() throws -> AdamWStepSettings { try plan.settings(atStep: step - stageStart) }

    mutating func advance() { step += 1 }
}
