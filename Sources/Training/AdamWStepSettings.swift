/// Everything a worker needs to apply one AdamW update to its slice: the hyperparameters of
/// this step, already scheduled. Built once per step by the coordinator (see
/// `OptimizerPlan.settings(atStep:gradScale:)`) and shared read-only with all workers.
///
/// Scalars are `Double` like fastai's Python hyperparameters; they are rounded to `Float`
/// only where they enter the per-element kernel.
public struct AdamWStepSettings: Sendable, Equatable {
    /// Learning rate of each layer group at this step.
    public var learningRates: [Double]
    /// Whether each layer group is trained. Frozen groups get no update at all (no weight
    /// decay either) and their optimizer state, step count included, is left untouched.
    public var trainable: [Bool]
    /// Current first-moment coefficient (fastai `mom`; the one-cycle schedule varies it).
    public var beta1: Double
    /// Second-moment coefficient (fastai `sqr_mom`).
    public var beta2: Double
    /// Added to the denominator (fastai default 1e-5, not PyTorch's 1e-8).
    public var eps: Double
    /// Decoupled weight decay: `p *= 1 - lr * weightDecay` before the Adam step.
    public var weightDecay: Double
    /// Multiplies every gradient element as it is read (loss averaging times clipping scale).
    public var gradScale: Float

    public init(learningRates: [Double], trainable: [Bool], beta1: Double = 0.9, beta2: Double = 0.99,
                eps: Double = 1e-5, weightDecay: Double = 0.01, gradScale: Float = 1) {
        self.learningRates = learningRates
        self.trainable = trainable
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.gradScale = gradScale
    }

    /// Throws unless the values make a well-defined AdamW step (finite non-negative rates,
    /// betas in [0, 1), positive eps, finite non-negative decay and scale).
    public func validate() throws {
        for (group, rate) in learningRates.enumerated() where !(rate >= 0 && rate.isFinite) {
            throw TrainingError.invalidHyperparameter(name: "learningRates[\(group)]", value: rate,
                                                      reason: "must be non-negative and finite")
        }
        for (name, beta) in [("beta1", beta1), ("beta2", beta2)] where !(beta >= 0 && beta < 1) {
            throw TrainingError.invalidHyperparameter(name: name, value: beta, reason: "must be in [0, 1)")
        }
        guard eps > 0, eps.isFinite else {
            throw TrainingError.invalidHyperparameter(name: "eps", value: eps, reason: "must be positive and finite")
        }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw TrainingError.invalidHyperparameter(name: "weightDecay", value: weightDecay,
                                                      reason: "must be non-negative and finite")
        }
        guard gradScale >= 0, gradScale.isFinite else {
            throw TrainingError.invalidHyperparameter(name: "gradScale", value: Double(gradScale),
                                                      reason: "must be non-negative and finite")
        }
    }
}
