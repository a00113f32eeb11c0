import Foundation

/// Per-group peak learning rates the way fastai takes them (`lr_max=` of `fit_one_cycle`):
/// a single number, `slice(lo, hi)` or `slice(hi)`. ULMFiT fine-tunes the classifier with
/// `slice(lr / 2.6**4, lr)` over its 5 groups.
public enum LearningRateSpec: Sendable, Equatable {
    /// The same rate for every group (a plain float).
    case uniform(Double)
    /// `slice(lower, upper)`: spread geometrically from the first group to the last
    /// (fastai `even_mults`).
    case slice(lower: Double, upper: Double)
    /// `slice(upper)`: `upper / 10` for every group but the last, `upper` for the last.
    case upTo(Double)

    /// The rate of each of `groupCount` groups, first group first.
    /// - Throws: `TrainingError.invalidHyperparameter` for a non-positive or non-finite rate
    ///   or group count.
    public func learningRates(groupCount: Int) throws -> [Double] {
        guard groupCount > 0 else {
            throw TrainingError.invalidHyperparameter(name: "groupCount", value: Double(groupCount),
                                                      reason: "must be positive")
        }
        switch self {
        case .uniform(let rate):
            try Self.check(rate, "learning rate")
            return Array(repeating: rate, count: groupCount)
        case .slice(let lower, let upper):
            try Self.check(lower, "slice lower learning rate")
            try Self.check(upper, "slice upper learning rate")
            return Self.evenMults(lower, upper, count: groupCount)
        case .upTo(let upper):
            try Self.check(upper, "slice upper learning rate")
            return Array(repeating: upper / 10, count: groupCount - 1) + [upper]
        }
    }

    /// fastai `even_mults(start, stop, n)`: `start * step**i` with `step = (stop/start)**(1/(n-1))`,
    /// for `i` in `0..<n`; `[stop]` when `n == 1`.
    public static func evenMults(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        if count == 1 { return [stop] }
        let step = pow(stop / start, 1 / Double(count - 1))
        return (0..<count).map { start * pow(step, Double($0)) }
    }

    private static func check(_ rate: Double, _ name: String) throws {
        guard rate > 0, rate.isFinite else {
            throw TrainingError.invalidHyperparameter(name: name, value: rate, reason: "must be positive and finite")
        }
    }
}
