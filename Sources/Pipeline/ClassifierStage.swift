import Foundation
import Training

/// One `fit_one_cycle` of classifier training: which layer groups train, their peak learning
/// rates, and for how many epochs. Successive stages restart the one-cycle schedule and keep
/// the optimizer state (`ClassifierTrainer.beginStage`).
public struct ClassifierStage: Sendable, Equatable {
    public var name: String
    /// fastai `freeze_to(n)` (negative counts from the end); 0 is `unfreeze()`.
    public var freezeTo: Int
    public var learningRates: LearningRateSpec
    public var epochs: Int
    /// The encoder runs in evaluation mode (no embedding, weight, input or hidden dropout) while
    /// only the head trains: a probe of the features the encoder gives as they are. Only for a
    /// stage whose encoder is wholly frozen (`freezeTo == -1`).
    public var encoderInEvalMode: Bool

    public init(name: String, freezeTo: Int, learningRates: LearningRateSpec, epochs: Int, encoderInEvalMode: Bool = false) {
        precondition(!encoderInEvalMode || freezeTo == -1, "an encoder in evaluation mode must be frozen (freeze_to(-1))")
        self.name = name
        self.freezeTo = freezeTo
        self.learningRates = learningRates
        self.epochs = epochs
        self.encoderInEvalMode = encoderInEvalMode
    }

    /// ULMFiT's gradual unfreezing with discriminative learning rates (Howard & Ruder 2018),
    /// as the fastai IMDb notebook and Genomic ULMFiT run it for `lr = 2e-2`:
    ///
    ///     learn.fit_one_cycle(1, 2e-2, moms=(0.8,0.7))
    ///     learn.freeze_to(-2)
    ///     learn.fit_one_cycle(1, slice(1e-2/(2.6**4), 1e-2), moms=(0.8,0.7))
    ///     learn.freeze_to(-3)
    ///     learn.fit_one_cycle(1, slice(5e-3/(2.6**4), 5e-3), moms=(0.8,0.7))
    ///     learn.unfreeze()
    ///     learn.fit_one_cycle(2, slice(1e-3/(2.6**4), 1e-3), moms=(0.8,0.7))
    ///
    /// i.e. lr, lr/2, lr/4, lr/20 for the last group, each spread down by 2.6^4 to the first
    /// group. The first stage trains only the head (`freeze()` is `freeze_to(-1)`); the last
    /// runs `epochs` epochs. (The momentum cycle 0.8 -> 0.7 -> 0.8 is `OneCycleSchedule`'s default.)
    public static func ulmfit(learningRate lr: Double, epochs: Int) -> [ClassifierStage] {
        let spread = pow(2.6, 4.0)
        return [
            ClassifierStage(name: "head", freezeTo: -1, learningRates: .uniform(lr), epochs: 1),
            ClassifierStage(name: "last two groups", freezeTo: -2,
                            learningRates: .slice(lower: lr / 2 / spread, upper: lr / 2), epochs: 1),
            ClassifierStage(name: "last three groups", freezeTo: -3,
                            learningRates: .slice(lower: lr / 4 / spread, upper: lr / 4), epochs: 1),
            ClassifierStage(name: "all groups", freezeTo: 0,
                            learningRates: .slice(lower: lr / 20 / spread, upper: lr / 20), epochs: epochs),
        ]
    }

    /// The head alone for `epochs` epochs at `lr`, on the frozen encoder in evaluation mode
    /// (fastai's `learn.freeze()` then `fit_one_cycle`, with the encoder's dropouts off): a probe
    /// of how much a language model's features tell the classes apart, without fine-tuning them.
    public static func head(learningRate lr: Double, epochs: Int) -> [ClassifierStage] {
        [ClassifierStage(name: "head, encoder frozen in eval mode", freezeTo: -1, learningRates: .uniform(lr),
                         epochs: epochs, encoderInEvalMode: true)]
    }

    /// One stage that trains every group at `lr` (a classifier trained from scratch has no
    /// pretrained layers to protect).
    public static func all(learningRate lr: Double, epochs: Int) -> [ClassifierStage] {
        [ClassifierStage(name: "all groups", freezeTo: 0, learningRates: .uniform(lr), epochs: epochs)]
    }
}
