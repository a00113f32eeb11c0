/// The optimizer's hyperparameters for a whole `fit`: layer groups, their peak learning rates
/// and frozen flags, the schedule, AdamW's constants and gradient clipping.
///
/// Each step the data-parallel engine turns it into one `AdamWStepSettings`, which all workers
/// apply to their shards.
///
/// One data-parallel step, after the reduce-scatter of the gradients (`DataParallelEngine`):
/// 1. the squared norm of the trainable gradients, `GradientClipping.sumOfSquares` per fixed
///    block, summed in block order;
/// 2. `scale = plan.gradScale(totalSquaredNorm:)`, `settings = plan.settings(atStep:gradScale:)`;
/// 3. each worker: `shard.update(params:grads:layout: plan.layout, settings: settings)` on the
///    `AdamWShard` it created for its slice.
public struct OptimizerPlan: Sendable {
    /// The layer groups of the flat parameter buffer.
    public let layout: OptimizerLayout
    /// Peak (`lr_max`) learning rate of each group.
    public let peakLearningRates: [Double]
    /// Whether each group is trained (see `freezeTo(_:)`).
    public private(set) var trainable: [Bool]
    /// Learning-rate multiplier and beta1 per step.
    public var schedule: any TrainingSchedule
    /// fastai `sqr_mom`.
    public var beta2: Double
    /// fastai `eps` (1e-5 by default).
    public var eps: Double
    /// Decoupled weight decay (fastai `wd`, 0.01 by default).
    public var weightDecay: Double
    /// Global-norm clipping threshold (fastai `GradientClip(max_norm)`); nil disables clipping.
    public var maxGradNorm: Double?

    /// All groups start trainable, as after fastai's `unfreeze()`.
    /// - Throws: `TrainingError.invalidHyperparameter` for rates or constants out of range.
    public init(layout: OptimizerLayout, learningRates: LearningRateSpec, schedule: any TrainingSchedule,
                beta2: Double = 0.99, eps: Double = 1e-5, weightDecay: Double = 0.01,
                maxGradNorm: Double? = nil) throws {
        guard beta2 >= 0, beta2 < 1 else {
            throw TrainingError.invalidHyperparameter(name: "beta2", value: beta2, reason: "must be in [0, 1)")
        }
        guard eps > 0, eps.isFinite else {
            throw TrainingError.invalidHyperparameter(name: "eps", value: eps, reason: "must be positive and finite")
        }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw TrainingError.invalidHyperparameter(name: "weightDecay", value: weightDecay,
                                                      reason: "must be non-negative and finite")
        }
        if let maxGradNorm, !(maxGradNorm > 0 && maxGradNorm.isFinite) {
            throw TrainingError.invalidHyperparameter(name: "maxGradNorm", value: maxGradNorm,
                                                      reason: "must be positive and finite")
        }
        self.layout = layout
        self.peakLearningRates = try learningRates.learningRates(groupCount: layout.groups.count)
        self.trainable = Array(repeating: true, count: layout.groups.count)
        self.schedule = schedule
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.maxGradNorm = maxGradNorm
    }

    /// fastai `freeze_to(n)`; see `GroupFreezing`.
    public mutating func freezeTo(_ n: Int) throws {
        trainable = try GroupFreezing.trainableFlags(freezeTo: n, groupCount: layout.groups.count)
    }

    /// The factor to fold into `gradScale`: `lossScale` times the clipping scale.
    ///
    /// - Parameters:
    ///   - totalSquaredNorm: sum over all workers of `GradientClipping.sumOfSquares` of the
    ///     unscaled gradients (trainable groups only).
    ///   - lossScale: factor the raw gradient buffer still needs, e.g. 1/N for a sum over N
    ///     shards of a mean loss; the norm is measured after it, as PyTorch would.
    /// - Throws: `TrainingError.nonFiniteGradientNorm` when clipping is on and the norm is not
    ///   finite.
    public func gradScale(totalSquaredNorm: Double, lossScale: Float = 1) throws -> Float {
        guard let maxGradNorm else { return lossScale }
        let scale = Double(lossScale)
        return lossScale * (try GradientClipping.clipScale(totalSquaredNorm: totalSquaredNorm * scale * scale,
                                                           maxNorm: maxGradNorm))
    }

    /// The settings of step `step` of the schedule.
    /// - Throws: `TrainingError.stepOutOfRange` past the end of the schedule.
    public func settings(atStep step: Int, gradScale: Float = 1) throws -> AdamWStepSettings {
        let values = try schedule.values(atStep: step)
        return AdamWStepSettings(
            learningRates: peakLearningRates.map { $0 * values.learningRateMultiplier },
            trainable: trainable, beta1: values.beta1, beta2: beta2, eps: eps,
            weightDecay: weightDecay, gradScale: gradScale)
    }
}
