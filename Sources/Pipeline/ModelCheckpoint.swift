import Checkpoint
import Foundation
import GenomicData
import Model

/// A trained model as a later stage reads it from a checkpoint folder (`--init-from`,
/// `--encoder`, `evaluate --model`, `export --model`): what it is (kind, sizes, vocabulary),
/// its weights by name and its BatchNorm statistics.
///
/// `load(from:)` accepts a run folder (the newest checkpoint that verifies is used, and newer
/// ones skipped are reported in `resolution`) or any checkpoint folder in it.
public struct ModelCheckpoint: Sendable {
    public enum Kind: String, Codable, Sendable {
        case languageModel = "language-model"
        case classifier

        /// The command that writes checkpoints of this kind.
        public var writer: String { self == .languageModel ? "ulmfit train-lm" : "ulmfit train-classifier" }
        var article: String { self == .languageModel ? "a language-model" : "a classifier" }
    }

    /// The model's shape: the manifest's `model` field.
    public struct Shape: Codable, Equatable, Sendable {
        public var config: AWDLSTMConfig
        /// Classifier only: classes and units of the head's hidden layer.
        public var classCount: Int?
        public var headHidden: Int?
        /// Floats of BatchNorm running statistics (0 for a language model).
        public var statisticsCount: Int

        public init(config: AWDLSTMConfig, classCount: Int? = nil, headHidden: Int? = nil, statisticsCount: Int = 0) {
            self.config = config
            self.classCount = classCount
            self.headHidden = headHidden
            self.statisticsCount = statisticsCount
        }
    }

    public let kind: Kind
    public let shape: Shape
    public var config: AWDLSTMConfig { shape.config }
    /// Vocabulary tokens in id order, specials first, and the tokenizer settings.
    public let vocabularyTokens: [String]
    public let k: Int
    public let stride: Int
    /// Named tensors of `params`.
    public let tensors: [CheckpointManifest.Tensor]
    public var parameterCount: Int { params.count }
    public let step: Int
    /// The flat parameters and the BatchNorm running statistics.
    public let params: [Float]
    public let statistics: [Float]
    /// The checkpoint folder read and its manifest (error messages name it).
    public let path: String
    public var manifestPath: String { (path as NSString).appendingPathComponent(CheckpointDirectory.manifestFile) }
    /// "using RUN/checkpoints/step-N" plus any newer checkpoint skipped and why.
    public let resolution: String

    /// Loads the model of `path` (a run folder or a checkpoint folder).
    /// - Parameters:
    ///   - expected: the kind the caller needs; another kind is an error that says so.
    ///   - role: how the caller names the path in messages (e.g. "--init-from").
    /// - Throws: `CheckpointError` naming the file and field at fault.
    public static func load(from path: String, expecting expected: Kind? = nil,
                            role: String? = nil) throws -> ModelCheckpoint {
        let resolved = try CheckpointDirectory.resolve(path)
        let checkpoint = resolved.checkpoint, manifest = checkpoint.manifest, file = checkpoint.manifestPath
        guard let kind = Kind(rawValue: manifest.kind) else {
            throw CheckpointError(file: file, field: "kind", "is \"\(manifest.kind)\"")
        }
        if let expected, kind != expected {
            throw CheckpointError(file: file, field: "kind", "is \(kind.article) checkpoint, but \(role ?? "this command") "
                + "needs \(expected.article) checkpoint (written by `\(expected.writer)`)")
        }
        let shape: Shape
        do {
            shape = try manifest.model.decode(Shape.self)
        } catch {
            throw CheckpointError(file: file, field: "model", "does not describe a model: \(error)")
        }
        if kind == .classifier, !((shape.classCount ?? 0) >= 2 && (shape.headHidden ?? 0) >= 1) {
            throw CheckpointError(file: file, field: "model.classCount", "a classifier needs at least 2 classes and a "
                + "head of at least 1 unit (class count \(shape.classCount.map(String.init) ?? "absent"), head "
                + "\(shape.headHidden.map(String.init) ?? "absent"))")
        }
        do {
            try shape.config.validate()
        } catch {
            throw CheckpointError(file: file, field: "model.config", "\(error)")
        }
        let params = try checkpoint.assemble("params", range: 0 ..< manifest.parameters.count)
        var statistics: [Float] = []
        if shape.statisticsCount > 0 {
            statistics = try checkpoint.floats(statisticsTensor, shard: 0)
            guard statistics.count == shape.statisticsCount else {
                throw CheckpointError(file: file, field: "model.statisticsCount", "is \(shape.statisticsCount), the shard "
                    + "holds \(statistics.count) statistics")
            }
        }
        let model = ModelCheckpoint(kind: kind, shape: shape, vocabularyTokens: manifest.vocabulary.tokens,
                                    k: manifest.vocabulary.k, stride: manifest.vocabulary.stride,
                                    tensors: manifest.parameters.tensors, step: manifest.step, params: params,
                                    statistics: statistics, path: checkpoint.path, resolution: resolved.summary)
        try model.validate(against: model.expectedLayout)
        try model.checkFinite()
        return model
    }

    /// Refuses weights or statistics that are not finite (NaN, infinity), naming the tensor: such a
    /// model is useless to start from, score with or export, and said so at load rather than as a
    /// "diverged" run later.
    func checkFinite() throws {
        for t in tensors {
            let count = t.shape.reduce(1, *)
            guard t.offset >= 0, t.offset + count <= params.count else { continue }
            let values = params[t.offset ..< t.offset + count]
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                let n = values.lazy.filter { !$0.isFinite }.count
                throw CheckpointError(file: manifestPath, field: "params", "tensor '\(t.name)' holds \(n) non-finite "
                    + "value\(n == 1 ? "" : "s") (\(params[bad]) at index \(bad - t.offset)): the run that wrote this "
                    + "checkpoint had diverged; use an earlier checkpoint of it")
            }
        }
        if let bad = statistics.firstIndex(where: { !$0.isFinite }) {
            throw CheckpointError(file: manifestPath, field: Self.statisticsTensor, "holds a non-finite value "
                + "(\(statistics[bad]) at index \(bad)): use an earlier checkpoint of this run")
        }
    }

    /// The parameter layout of the model this checkpoint describes.
    public var expectedLayout: ParameterLayout {
        switch kind {
        case .languageModel: return LanguageModelParameters(config: config).layout
        case .classifier: return classifierParameters.layout
        }
    }

    /// The classifier's parameters (kind classifier; a language model gets the default head).
    public var classifierParameters: ClassifierParameters {
        ClassifierParameters(config: config, classCount: shape.classCount ?? 2, headHidden: shape.headHidden ?? 50)
    }

    /// Checks that this checkpoint's tensors match `layout` by name, shape and size.
    public func validate(against layout: ParameterLayout) throws {
        let mine = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for spec in layout.specs {
            guard let t = mine[spec.name] else {
                throw CheckpointError(file: manifestPath, field: "parameters.tensors",
                                      "has no tensor '\(spec.name)' (\(kind.article) checkpoint with \(tensors.count) tensors)")
            }
            guard t.shape == spec.shape else {
                throw CheckpointError(file: manifestPath, field: "parameters.tensors",
                                      "tensor '\(spec.name)' has shape \(t.shape), the model needs \(spec.shape)")
            }
            guard t.offset >= 0, t.offset + spec.count <= params.count else {
                throw CheckpointError(file: manifestPath, field: "parameters.tensors",
                                      "tensor '\(spec.name)' at offset \(t.offset) runs past the \(params.count) parameters")
            }
        }
    }

    /// The values of tensor `name` (nil when the checkpoint has none).
    public func tensor(_ name: String) -> (shape: [Int], values: ArraySlice<Float>)? {
        guard let t = tensors.first(where: { $0.name == name }) else { return nil }
        let count = t.shape.reduce(1, *)
        return (t.shape, params[t.offset ..< t.offset + count])
    }

    /// The vocabulary the model was trained with.
    public func vocabulary() throws -> Vocabulary {
        do {
            return try Vocabulary(kmers: Array(vocabularyTokens.dropFirst(Vocabulary.specialTokens.count)), k: k, stride: stride)
        } catch {
            throw CheckpointError(file: manifestPath, field: "vocabulary", "\(error)")
        }
    }

    /// Name of the BatchNorm statistics tensor in shard 0.
    static let statisticsTensor = "batchnorm.statistics"

    init(kind: Kind, shape: Shape, vocabularyTokens: [String], k: Int, stride: Int, tensors: [CheckpointManifest.Tensor],
         step: Int, params: [Float], statistics: [Float], path: String, resolution: String) {
        self.kind = kind
        self.shape = shape
        self.vocabularyTokens = vocabularyTokens
        self.k = k
        self.stride = stride
        self.tensors = tensors
        self.step = step
        self.params = params
        self.statistics = statistics
        self.path = path
        self.resolution = resolution
    }
}
