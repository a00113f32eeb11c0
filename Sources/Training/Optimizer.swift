/// A single-worker AdamW optimizer over the whole flat parameter buffer, with its schedule,
/// discriminative learning rates, freezing and gradient clipping: the facade a one-thread
/// trainer calls once per batch. It is one `AdamWShard` covering every parameter; the
/// data-parallel trainer uses the same `OptimizerPlan` with one shard per worker instead.
public final class Optimizer {
    /// What one optimizer step did, for logging.
    public struct StepReport: Sendable, Equatable {
        /// The schedule step that was applied.
        public var step: Int
        public var learningRates: [Double]
        public var beta1: Double
        /// Global norm of the (loss-scaled) trainable gradients before clipping.
        public var gradNorm: Double
        /// Factor applied to the raw gradients (loss scale times clipping scale).
        public var gradScale: Float
    }

    /// Hyperparameters; change learning rates, freezing or the schedule between fits here.
    public var plan: OptimizerPlan
    /// The optimizer state of all parameters.
    public let state: AdamWShard
    /// The next schedule step; reset it to 0 when starting a new fit with a new schedule.
    public var stepIndex: Int = 0

    public init(plan: OptimizerPlan) {
        self.plan = plan
        state = AdamWShard(range: 0..<plan.layout.parameterCount, groupCount: plan.layout.groups.count)
    }

    /// Applies one AdamW step to all trainable parameters and advances `stepIndex`.
    ///
    /// - Parameters:
    ///   - params: the flat parameter buffer, `count` floats.
    ///   - grads: the flat gradient buffer, `count` floats.
    ///   - count: must equal the layout's parameter count.
    ///   - lossScale: multiplies the gradients (before the norm is measured).
    /// - Throws: `TrainingError` on a size mismatch, past the end of the schedule, or for a
    ///   non-finite gradient norm when clipping is on (nothing is updated then).
    @discardableResult
    public func step(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, count: Int,
                     lossScale: Float = 1) throws -> StepReport {
        guard count == plan.layout.parameterCount else {
            throw TrainingError.sizeMismatch("buffers have \(count) floats; the layout has \(plan.layout.parameterCount)")
        }
        let squaredNorm = try GradientClipping.sumOfSquares(
            grads: grads, slice: 0..<count, layout: plan.layout, trainable: plan.trainable)
        let gradScale = try plan.gradScale(totalSquaredNorm: squaredNorm, lossScale: lossScale)
        let settings = try plan.settings(atStep: stepIndex, gradScale: gradScale)
        try state.update(params: params, grads: grads, layout: plan.layout, settings: settings)
        let step = stepIndex
        stepIndex += 1
        return StepReport(step: step, learningRates: settings.learningRates, beta1: settings.beta1,
                          gradNorm: squaredNorm.squareRoot() * Double(lossScale), gradScale: gradScale)
    }
}
