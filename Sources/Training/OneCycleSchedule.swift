import Foundation

/// fastai's one-cycle policy (`Learner.fit_one_cycle`, fastai 2):
///
///     lr:  combined_cos(pct_start, lr_max/div, lr_max, lr_max/div_final)
///     mom: combined_cos(pct_start, *moms)
///
/// i.e. cosine warm-up from `lr_max/div` to `lr_max` over the first `pctStart` of the steps,
/// then cosine annealing down to `lr_max/divFinal`, while beta1 goes the opposite way
/// (`moms.0 -> moms.1 -> moms.2`). Learning rates are returned as multipliers of each group's
/// `lr_max`; fastai evaluates the same formula with `lr_max` folded into start and end, which
/// differs only by double rounding.
///
/// fastai 1 (`OneCycleScheduler`, used by the original ULMFiT scripts) ended at
/// `lr_max/(div*1e4)` with `pct_start=0.3`: pass `divFinal: 25e4, pctStart: 0.3` for that.
public struct OneCycleSchedule: TrainingSchedule {
    public let totalSteps: Int
    /// Fraction of the steps spent warming up (fastai 2 default 0.25).
    public let pctStart: Double
    /// The cycle starts at `lr_max / div`.
    public let div: Double
    /// The cycle ends at `lr_max / divFinal`.
    public let divFinal: Double
    /// beta1 at the start, at the peak learning rate and at the end.
    public let moms: (start: Double, middle: Double, end: Double)

    /// Defaults are fastai 2's `fit_one_cycle` with the text learners' `moms=(0.8,0.7,0.8)`.
    /// - Throws: `TrainingError.invalidHyperparameter` for a non-positive step count or
    ///   divisor, or `pctStart` outside [0, 1].
    public init(totalSteps: Int, pctStart: Double = 0.25, div: Double = 25, divFinal: Double = 1e5,
                moms: (Double, Double, Double) = (0.8, 0.7, 0.8)) throws {
        guard totalSteps > 0 else {
            throw TrainingError.invalidHyperparameter(name: "totalSteps", value: Double(totalSteps),
                                                      reason: "must be positive")
        }
        guard pctStart >= 0, pctStart <= 1 else {
            throw TrainingError.invalidHyperparameter(name: "pctStart", value: pctStart, reason: "must be in [0, 1]")
        }
        for (name, value) in [("div", div), ("divFinal", divFinal)] where !(value > 0 && value.isFinite) {
            throw TrainingError.invalidHyperparameter(name: name, value: value, reason: "must be positive and finite")
        }
        for value in [moms.0, moms.1, moms.2] where !(value >= 0 && value < 1) {
            throw TrainingError.invalidHyperparameter(name: "moms", value: value, reason: "beta1 must be in [0, 1)")
        }
        self.totalSteps = totalSteps
        self.pctStart = pctStart
        self.div = div
        self.divFinal = divFinal
        self.moms = (moms.0, moms.1, moms.2)
    }

    /// fastai `SchedCos(start, end)(pos)`: half a cosine from `start` (pos 0) to `end` (pos 1).
    public static func cosine(from start: Double, to end: Double, at pos: Double) -> Double {
        start + (1 + cos(Double.pi * (1 - pos))) * (end - start) / 2
    }

    public func values(atStep step: Int) throws -> ScheduleValues {
        try checkStep(step)
        let pos = Double(step) / Double(totalSteps)
        // fastai combine_scheds: the phase is the last one whose start is <= pos, so with
        // pctStart == 0 every step is in the annealing phase.
        if pos >= pctStart {
            let phasePos = (pos - pctStart) / (1 - pctStart)
            return ScheduleValues(
                learningRateMultiplier: Self.cosine(from: 1, to: 1 / divFinal, at: phasePos),
                beta1: Self.cosine(from: moms.middle, to: moms.end, at: phasePos))
        }
        let phasePos = pos / pctStart
        return ScheduleValues(
            learningRateMultiplier: Self.cosine(from: 1 / div, to: 1, at: phasePos),
            beta1: Self.cosine(from: moms.start, to: moms.middle, at: phasePos))
    }
}
