/// Constant learning rate and beta1, as fastai's plain `fit`, optionally after a linear
/// warm-up: the multiplier is `(step + 1) / warmupSteps` during the first `warmupSteps` steps
/// (so the first step already moves), then 1.
public struct ConstantSchedule: TrainingSchedule {
    public let totalSteps: Int
    public let beta1: Double
    public let warmupSteps: Int

    /// - Throws: `TrainingError.invalidHyperparameter` for a non-positive step count, a negative
    ///   warm-up or beta1 outside [0, 1).
    public init(totalSteps: Int, beta1: Double = 0.9, warmupSteps: Int = 0) throws {
        guard totalSteps > 0 else {
            throw TrainingError.invalidHyperparameter(name: "totalSteps", value: Double(totalSteps),
                                                      reason: "must be positive")
        }
        guard warmupSteps >= 0 else {
            throw TrainingError.invalidHyperparameter(name: "warmupSteps", value: Double(warmupSteps),
                                                      reason: "must not be negative")
        }
        guard beta1 >= 0, beta1 < 1 else {
            throw TrainingError.invalidHyperparameter(name: "beta1", value: beta1, reason: "must be in [0, 1)")
        }
        self.totalSteps = totalSteps
        self.beta1 = beta1
        self.warmupSteps = warmupSteps
    }

    public func values(atStep step: Int) throws -> ScheduleValues {
        try checkStep(step)
        let multiplier = step < warmupSteps ? Double(step + 1) / Double(warmupSteps) : 1
        return ScheduleValues(learningRateMultiplier: multiplier, beta1: beta1)
    }
}
