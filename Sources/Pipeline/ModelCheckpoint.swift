import Foundation
import Model

/// A saved model: `model.json` (what it is: kind, config, vocabulary, tensor names and shapes,
/// step, checksum) and `params.bin` (the flat parameter buffer, little-endian Float32).
///
/// Written atomically: both files go to temporary names first and are renamed into place,
/// `params.bin` before `model.json`, so a crash never leaves a checkpoint that looks complete
/// but is not. Loading checks format, sizes and the checksum and names the file at fault.
public struct ModelCheckpoint: Codable, Sendable, Equatable {
    public struct Tensor: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var offset: Int
    }

    public static let format = "genomic-ulmfit-model"
    public static let version = 1

    public var format = ModelCheckpoint.format
    public var version = ModelCheckpoint.version
    /// "language-model" or "classifier".
    public var kind: String
    public var config: AWDLSTMConfig
    public var vocabularyTokens: [String]
    public var k: Int
    public var stride: Int
    public var tensors: [Tensor]
    public var parameterCount: Int
    public var step: Int
    /// FNV-1a 64 of params.bin, hex.
    public var checksum: String = ""

    public init(kind: String, config: AWDLSTMConfig, vocabularyTokens: [String], k: Int, stride: Int,
                layout: ParameterLayout, step: Int) {
        self.kind = kind
        self.config = config
        self.vocabularyTokens = vocabularyTokens
        self.k = k
        self.stride = stride
        tensors = layout.specs.map { Tensor(name: $0.name, shape: $0.shape, offset: $0.offset) }
        parameterCount = layout.count
        self.step = step
    }

    /// Writes the checkpoint into `directory` (created if needed).
    public func save(params: UnsafePointer<Float>, to directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let data = Data(bytes: params, count: parameterCount * MemoryLayout<Float>.size)
        var header = self
        header.checksum = Self.fnv1a(data)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(header)
        let paramsPath = (directory as NSString).appendingPathComponent("params.bin")
        let jsonPath = (directory as NSString).appendingPathComponent("model.json")
        try data.write(to: URL(fileURLWithPath: paramsPath), options: .atomic)
        try json.write(to: URL(fileURLWithPath: jsonPath), options: .atomic)
    }

    /// Reads and verifies a checkpoint; returns the header and the parameters.
    public static func load(from directory: String) throws -> (ModelCheckpoint, [Float]) {
        let jsonPath = (directory as NSString).appendingPathComponent("model.json")
        let paramsPath = (directory as NSString).appendingPathComponent("params.bin")
        guard let json = FileManager.default.contents(atPath: jsonPath) else {
            throw CheckpointError(file: jsonPath, "missing or unreadable (is \(directory) a checkpoint directory?)")
        }
        let header: ModelCheckpoint
        do {
            header = try JSONDecoder().decode(ModelCheckpoint.self, from: json)
        } catch {
            throw CheckpointError(file: jsonPath, "not a valid checkpoint header: \(error)")
        }
        guard header.format == format else {
            throw CheckpointError(file: jsonPath, "field 'format' is \"\(header.format)\", expected \"\(format)\"")
        }
        guard header.version == version else {
            throw CheckpointError(file: jsonPath, "field 'version' is \(header.version); this build reads version \(version)")
        }
        guard let data = FileManager.default.contents(atPath: paramsPath) else {
            throw CheckpointError(file: paramsPath, "missing or unreadable")
        }
        guard data.count == header.parameterCount * MemoryLayout<Float>.size else {
            throw CheckpointError(file: paramsPath, "has \(data.count) bytes, the header says \(header.parameterCount) floats "
                + "(\(header.parameterCount * 4) bytes): truncated or from another model")
        }
        guard fnv1a(data) == header.checksum else {
            throw CheckpointError(file: paramsPath, "checksum mismatch (corrupted): expected \(header.checksum), got \(fnv1a(data))")
        }
        let params = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (header, params)
    }

    /// Checks that this checkpoint's tensors match `layout` by name and shape.
    public func validate(against layout: ParameterLayout, file: String) throws {
        let mine = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for spec in layout.specs {
            guard let t = mine[spec.name] else { throw CheckpointError(file: file, "has no tensor '\(spec.name)'") }
            guard t.shape == spec.shape else {
                throw CheckpointError(file: file, "tensor '\(spec.name)' has shape \(t.shape), the model needs \(spec.shape)")
            }
        }
    }

    static func fnv1a(_ data: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { raw in
            for byte in raw { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
        return String(h, radix: 16)
    }
}

/// A checkpoint that cannot be read, naming the file.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String
    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}
