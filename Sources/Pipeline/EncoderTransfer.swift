import Checkpoint
import Kernels
import Model

/// Moves a fine-tuned language model's encoder into a fresh classifier (fastai's
/// `learn.load_encoder`): the embedding (`encoder.weight`) and every LSTM tensor (`rnns.*`) are
/// copied by name; the pooling head keeps its fresh initialization.
public enum EncoderTransfer {
    /// Whether `name` is an encoder tensor (shared by the language model and the classifier).
    public static func isEncoderTensor(_ name: String) -> Bool {
        name == "encoder.weight" || name.hasPrefix("rnns.")
    }

    /// The classifier config of the checkpoint's language model: its sizes, fastai's
    /// `awd_lstm_clas_config` dropouts multiplied by `dropMult` (Genomic ULMFiT uses 0.5).
    public static func classifierConfig(of checkpoint: ModelCheckpoint, dropMult: Float) -> AWDLSTMConfig {
        let c = checkpoint.config
        return AWDLSTMConfig.classifier(vocabSize: c.vocabSize, embeddingSize: c.embeddingSize,
                                        hiddenSize: c.hiddenSize, layerCount: c.layerCount)
            .scaled(dropMult: dropMult)
    }

    /// The initial flat parameters of `classifier`: its fresh initialization with `seed` (the
    /// same values `ClassifierTrainer` starts from), with every encoder tensor replaced by the
    /// checkpoint's.
    ///
    /// - Returns: the parameters and the names of the copied tensors, in layout order.
    /// - Throws: `CheckpointError` naming the checkpoint's manifest when an encoder tensor is
    ///   missing, has another shape, or lies outside the checkpoint's parameters.
    public static func initialParameters(for classifier: ClassifierParameters, seed: UInt64,
                                         checkpoint: ModelCheckpoint) throws -> (params: [Float], copied: [String]) {
        let fresh = FloatBuffer(count: classifier.layout.count)
        let statistics = FloatBuffer(count: classifier.statisticsCount)
        classifier.initialize(fresh.pointer, statistics: statistics.pointer, seed: seed)
        var out = fresh.array
        let source = Dictionary(checkpoint.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let file = checkpoint.manifestPath, params = checkpoint.params
        var copied: [String] = []
        for spec in classifier.layout.specs where isEncoderTensor(spec.name) {
            guard let tensor = source[spec.name] else {
                throw CheckpointError(file: file, field: "parameters.tensors", "has no tensor '\(spec.name)' "
                    + "(a \(checkpoint.kind.rawValue) checkpoint with \(checkpoint.tensors.count) tensors; the classifier's encoder needs it)")
            }
            guard tensor.shape == spec.shape else {
                throw CheckpointError(file: file, field: "parameters.tensors", "tensor '\(spec.name)' has shape \(tensor.shape), "
                    + "the classifier's encoder needs \(spec.shape)")
            }
            guard tensor.offset >= 0, tensor.offset + spec.count <= params.count else {
                throw CheckpointError(file: file, field: "parameters.tensors", "tensor '\(spec.name)' at offset "
                    + "\(tensor.offset) runs past the end of the \(params.count) parameters")
            }
            out.replaceSubrange(spec.range, with: params[tensor.offset ..< tensor.offset + spec.count])
            copied.append(spec.name)
        }
        return (out, copied)
    }
}
