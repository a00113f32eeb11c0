import Checkpoint
import Model

/// A saved classifier: a `ModelCheckpoint` of kind classifier, with the head's shape and the
/// BatchNorm running statistics evaluation needs.
public struct ClassifierCheckpoint: Sendable {
    public let model: ModelCheckpoint
    public var classCount: Int { parameters.classCount }
    public var headHidden: Int { parameters.linear0.outputSize }
    public var params: [Float] { model.params }
    public var statistics: [Float] { model.statistics }
    /// The classifier's parameter layout (its tensors match `model`'s).
    public let parameters: ClassifierParameters

    /// Reads and verifies the classifier of `path` (a run folder or a checkpoint folder).
    /// - Throws: `CheckpointError` naming the file at fault, or saying the checkpoint is a
    ///   language model.
    public static func load(from path: String, role: String = "evaluate --model") throws -> ClassifierCheckpoint {
        try load(ModelCheckpoint.load(from: path, expecting: .classifier, role: role))
    }

    /// The classifier view of a loaded checkpoint of kind classifier.
    public static func load(_ model: ModelCheckpoint) throws -> ClassifierCheckpoint {
        guard model.kind == .classifier else {
            throw CheckpointError(file: model.manifestPath, field: "kind", "is a language-model checkpoint, not a classifier "
                + "(written by `ulmfit train-classifier`)")
        }
        let parameters = model.classifierParameters
        guard model.statistics.count == parameters.statisticsCount else {
            throw CheckpointError(file: model.manifestPath, field: "model.statisticsCount", "is \(model.statistics.count), "
                + "the classifier it describes has \(parameters.statisticsCount)")
        }
        return ClassifierCheckpoint(model: model, parameters: parameters)
    }
}
