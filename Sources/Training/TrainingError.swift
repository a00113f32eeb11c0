/// Errors raised by the optimizer side of training: bad layouts, bad hyperparameters,
/// mismatched buffers. Each description names the field or value at fault.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// The layer groups do not partition the flat parameter buffer.
    case invalidLayout(String)
    /// A hyperparameter is outside its valid domain.
    case invalidHyperparameter(name: String, value: Double, reason: String)
    /// A per-group array has the wrong number of entries.
    case groupCountMismatch(field: String, expected: Int, actual: Int)
    /// A buffer, slice or shard does not fit the parameter layout.
    case sizeMismatch(String)
    /// A schedule was asked for a step outside `0..<totalSteps`.
    case stepOutOfRange(step: Int, totalSteps: Int)
    /// `freezeTo(_:)` was given an index outside `-groupCount...groupCount`.
    case freezeIndexOutOfRange(index: Int, groupCount: Int)
    /// The global gradient norm is NaN or infinite; the step should be skipped.
    case nonFiniteGradientNorm(squaredNorm: Double)
    /// A training step's loss or gradient is NaN or infinite; the step (1-based, as in the
    /// logs) was not applied.
    case nonFinite(step: Int, what: String)
    /// A model's output is NaN or infinite.
    case nonFiniteOutput(String)
    /// The processes of a multi-process job do not agree on `what` (e.g. the initial weights):
    /// `ranks` differ from rank 0.
    case processesDisagree(what: String, ranks: [Int])

    public var description: String {
        switch self {
        case .invalidLayout(let why):
            return "invalid parameter layout: \(why)"
        case .invalidHyperparameter(let name, let value, let reason):
            return "invalid hyperparameter \(name) = \(value): \(reason)"
        case .groupCountMismatch(let field, let expected, let actual):
            return "\(field) has \(actual) entries but there are \(expected) layer groups"
        case .sizeMismatch(let why):
            return "size mismatch: \(why)"
        case .stepOutOfRange(let step, let total):
            return "step \(step) is outside the schedule's steps 0..<\(total)"
        case .freezeIndexOutOfRange(let index, let count):
            return "freezeTo(\(index)) is outside -\(count)...\(count) for \(count) layer groups"
        case .nonFiniteGradientNorm(let squaredNorm):
            return "gradient norm is not finite (squared norm \(squaredNorm)); skip this step"
        case .nonFinite(let step, let what):
            return "training diverged at step \(step): \(what). The step was not applied: the weights are "
                + "those after step \(step - 1). Lower the learning rate or clip the gradients (--clip)"
        case .nonFiniteOutput(let what):
            return "the model's output is not finite: \(what)"
        case .processesDisagree(let what, let ranks):
            return "rank\(ranks.count == 1 ? "" : "s") \(ranks.map(String.init).joined(separator: ", ")) of the job "
                + "\(ranks.count == 1 ? "has" : "have") other \(what) than rank 0: every process must read the same "
                + "input files (a file system all nodes see) with the same options"
        }
    }
}
