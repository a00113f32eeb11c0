import Foundation

/// `manifest.json` of a checkpoint folder: what was saved, where training stood, and how to
/// read every shard.
///
/// A checkpoint folder `RUN/checkpoints/step-000123/` holds this manifest, one safetensors
/// shard per worker (`shard-00000-of-00002.safetensors`, ...) and `SHA256SUMS` (the SHA-256 of
/// the manifest and of every shard, in `sha256sum -c` format). Shard `i` holds the slice
/// `parameterRange` of the flat parameter buffer that worker `i` owns, as 1-D tensors of
/// that length (`params`, and the AdamW moments `exp_avg`, `exp_avg_sq` when the optimizer
/// state was saved), plus that worker's own extras (shard 0: `batchnorm.statistics`).
/// `parameters.tensors` maps the flat buffer back to named tensors.
///
/// Tensors sliced by parameter range are re-sharded on load (`Checkpoint.assemble`). Tensors
/// split by rows (e.g. the language model's recurrent state, one row per stream) are written
/// by each shard for the rows its worker owns, in global row order across shards, and read
/// back whole with `Checkpoint.concatenated`.
///
/// Parts that other modules define travel as `JSONValue`: the resolved run config, the model's
/// shape, the position in the schedules, the data cursor, the random keys, the optimizer's
/// counters and the metrics logs' state.
public struct CheckpointManifest: Codable, Equatable, Sendable {
    public static let formatName = "genomic-ulmfit-checkpoint"
    /// The version this build writes and the only one it reads.
    public static let currentVersion = 1

    /// The vocabulary the model was trained with.
    public struct Vocabulary: Codable, Equatable, Sendable {
        public var tokens: [String]
        public var k: Int
        public var stride: Int
        /// SHA-256 (hex) of `Vocabulary.hashText`.
        public var sha256: String

        public init(tokens: [String], k: Int, stride: Int) {
            self.tokens = tokens
            self.k = k
            self.stride = stride
            sha256 = Self.hash(tokens: tokens, k: k, stride: stride)
        }

        /// SHA-256 of "k\nstride\n" followed by the tokens joined by "\n" (UTF-8), hex:
        /// one vocabulary, one hash, whatever JSON formatting the manifest gets.
        public static func hash(tokens: [String], k: Int, stride: Int) -> String {
            sha256Hex(Data(("\(k)\n\(stride)\n" + tokens.joined(separator: "\n")).utf8))
        }
    }

    /// The worker layout the checkpoint was written with.
    public struct Layout: Codable, Equatable, Sendable {
        public var workers: Int
        /// How workers were pinned (e.g. "core", "none").
        public var binding: String
        /// Shard files (one per worker).
        public var shardCount: Int
        /// Deterministic mode's fixed minibatch shards, nil when off.
        public var deterministicShards: Int?

        public init(workers: Int, binding: String, shardCount: Int, deterministicShards: Int? = nil) {
            self.workers = workers
            self.binding = binding
            self.shardCount = shardCount
            self.deterministicShards = deterministicShards
        }
    }

    /// One named tensor of the flat parameter buffer.
    public struct Tensor: Codable, Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var offset: Int

        public init(name: String, shape: [Int], offset: Int) {
            self.name = name
            self.shape = shape
            self.offset = offset
        }
    }

    /// The flat parameter buffer: its length (alignment padding included) and named tensors.
    public struct Parameters: Codable, Equatable, Sendable {
        public var count: Int
        public var tensors: [Tensor]

        public init(count: Int, tensors: [Tensor]) {
            self.count = count
            self.tensors = tensors
        }
    }

    /// One shard file.
    public struct Shard: Codable, Equatable, Sendable {
        public var file: String
        /// `[begin, end)` of the flat parameter buffer held by this shard's sliced tensors.
        public var parameterRange: [Int]
        public var tensors: [SafeTensorsEntry]
        public var bytes: Int
        public var sha256: String

        public var range: Range<Int> { parameterRange[0] ..< parameterRange[1] }
    }

    public var format = CheckpointManifest.formatName
    public var formatVersion = CheckpointManifest.currentVersion
    /// "language-model" or "classifier".
    public var kind: String
    /// The model's shape (config, head), as the module that builds the model writes it.
    public var model: JSONValue
    /// The fully resolved run configuration, as given by the command that ran.
    public var config: JSONValue
    public var vocabulary: Vocabulary
    /// Stage of gradual unfreezing (0-based), epoch (0-based) and optimizer steps taken.
    public var stage: Int
    public var epoch: Int
    public var step: Int
    /// The position in every schedule (e.g. the step at which the stage's one-cycle started).
    public var schedule: JSONValue
    /// Where the data stands (LM: each stream's offset; classifier: the epoch's shuffle and
    /// the next minibatch).
    public var dataCursor: JSONValue
    /// Every random stream's key (seed and purposes).
    public var randomKeys: JSONValue
    /// Optimizer counters not stored in shards (AdamW step counts per layer group), nil when
    /// the optimizer state was not saved.
    public var optimizer: JSONValue?
    /// What makes the metrics logs continue exactly on resume (smoothed averages, rows written),
    /// nil when not saved.
    public var metrics: JSONValue?
    public var layout: Layout
    public var parameters: Parameters
    /// Filled by `CheckpointWriter.commit`.
    public var shards: [Shard] = []

    public init(kind: String, model: JSONValue, config: JSONValue, vocabulary: Vocabulary, stage: Int, epoch: Int,
                step: Int, schedule: JSONValue, dataCursor: JSONValue, randomKeys: JSONValue,
                optimizer: JSONValue? = nil, metrics: JSONValue? = nil, layout: Layout, parameters: Parameters) {
        self.kind = kind
        self.model = model
        self.config = config
        self.vocabulary = vocabulary
        self.stage = stage
        self.epoch = epoch
        self.step = step
        self.schedule = schedule
        self.dataCursor = dataCursor
        self.randomKeys = randomKeys
        self.optimizer = optimizer
        self.metrics = metrics
        self.layout = layout
        self.parameters = parameters
    }

    /// Pretty-printed JSON with sorted keys (the same manifest always gives the same bytes).
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Checks what a run about to continue from this checkpoint brings against what was saved:
    /// `config` (the resolved config, compared field by field) and the vocabulary.
    /// - Throws: `CheckpointError` naming `file` (the manifest) and the first field that differs.
    public func check(config given: JSONValue?, vocabulary tokens: [String]?, k: Int? = nil, stride: Int? = nil,
                      file: String) throws {
        if let given, let path = config.firstDifference(from: given, prefix: "config") {
            throw CheckpointError(file: file, field: path, "the checkpoint was written with a different value "
                + "(\(config.value(at: path)?.text ?? "absent") in the checkpoint, \(given.value(at: path)?.text ?? "absent") now)")
        }
        if let tokens {
            let hash = Vocabulary.hash(tokens: tokens, k: k ?? vocabulary.k, stride: stride ?? vocabulary.stride)
            guard hash == vocabulary.sha256 else {
                let detail = tokens.count != vocabulary.tokens.count
                    ? "\(vocabulary.tokens.count) tokens in the checkpoint, \(tokens.count) given"
                    : (k ?? vocabulary.k) != vocabulary.k || (stride ?? vocabulary.stride) != vocabulary.stride
                        ? "k/stride \(vocabulary.k)/\(vocabulary.stride) in the checkpoint, \(k ?? vocabulary.k)/\(stride ?? vocabulary.stride) given"
                        : "first differing token id \(zip(tokens, vocabulary.tokens).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)"
                throw CheckpointError(file: file, field: "vocabulary.sha256", "the vocabulary given differs from the "
                    + "checkpoint's (\(detail))")
            }
        }
    }
}

extension JSONValue {
    /// The value at a dotted path as `firstDifference` writes it (`config.training.lr`, `a[2]`);
    /// the first component is skipped when it names the root (`config`).
    func value(at path: String) -> JSONValue? {
        var parts = path.split(separator: ".").map(String.init)
        if !parts.isEmpty { parts.removeFirst() }
        var current: JSONValue? = self
        for part in parts {
            var name = Substring(part)
            var indices: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]"),
                  let i = Int(name[name.index(after: open) ..< name.index(before: name.endIndex)]) {
                indices.insert(i, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty { current = current?[String(name)] }
            for i in indices {
                guard case let .array(items)? = current, i < items.count else { return nil }
                current = items[i]
            }
        }
        return current
    }
}

/// Lower-case hex SHA-256 of `data`.
func sha256Hex(_ data: Data) -> String {
    SHA256.hex(of: data)
}
