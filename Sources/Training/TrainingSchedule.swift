/// The learning-rate multiplier and `beta1` that a schedule prescribes for one step.
public struct ScheduleValues: Sendable, Equatable {
    /// Multiplies each layer group's peak learning rate.
    public var learningRateMultiplier: Double
    /// Adam's first-moment coefficient (fastai `mom`) at this step.
    public var beta1: Double

    public init(learningRateMultiplier: Double, beta1: Double) {
        self.learningRateMultiplier = learningRateMultiplier
        self.beta1 = beta1
    }
}

/// A hyperparameter schedule over the optimizer steps of one `fit` call.
///
/// Steps are 0-based batch indices over the whole fit (all epochs), as fastai's
/// `ParamScheduler`, which evaluates its schedules at `pos = train_iter / total_iters` before
/// each batch.
public protocol TrainingSchedule: Sendable {
    /// Number of optimizer steps the schedule spans.
    var totalSteps: Int { get }
    /// Values for `step` in `0..<totalSteps`.
    /// - Throws: `TrainingError.stepOutOfRange` outside that range.
    func values(atStep step: Int) throws -> ScheduleValues
}

extension TrainingSchedule {
    /// Throws unless `step` is in `0..<totalSteps`.
    func checkStep(_ step: Int) throws {
        guard step >= 0, step < totalSteps else {
            throw TrainingError.stepOutOfRange(step: step, totalSteps: totalSteps)
        }
    }
}
