/// Which stages a classifier run trains: ULMFiT's gradual unfreezing (for a pretrained encoder),
/// every group at once (from scratch), or the head alone on a frozen encoder in evaluation mode
/// (a probe of what a language model's features are worth).
public enum ClassifierRecipe: String, CaseIterable, Sendable {
    case ulmfit, all, head

    /// The stages for a head learning rate `lr` and `epochs` epochs of the last stage.
    public func stages(learningRate lr: Double, epochs: Int) -> [ClassifierStage] {
        switch self {
        case .ulmfit: return ClassifierStage.ulmfit(learningRate: lr, epochs: epochs)
        case .all: return ClassifierStage.all(learningRate: lr, epochs: epochs)
        case .head: return ClassifierStage.head(learningRate: lr, epochs: epochs)
        }
    }
}
