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

    /// This step's settings (the schedule counts from the stage's start).
    func settings() throws -> AdamWStepSettings { try plan.settings(atStep: step - stageStart) }

    mutating func advance() { step += 1 }
}
