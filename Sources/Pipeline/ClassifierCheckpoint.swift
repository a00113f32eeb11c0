import Foundation
import Model

/// A saved classifier: a `ModelCheckpoint` of kind "classifier" (`model.json`, `params.bin`)
/// plus what evaluation also needs and parameters do not hold: the BatchNorm running
/// statistics (`statistics.bin`, little-endian Float32) and the head's shape
/// (`classifier.json`: class count, hidden size, statistics count and checksum, step).
///
/// Every file is written atomically; `statistics.bin` and `classifier.json` go first and
/// `model.json` last, so a checkpoint whose `model.json` is complete has all its parts, and
/// loading checks that the parts belong together (same step, sizes, checksums).
public struct ClassifierCheckpoint: Sendable {
    /// The contents of `classifier.json`.
    struct Sidecar: Codable, Equatable {
        var format = ClassifierCheckpoint.format
        var version = ClassifierCheckpoint.version
        var classCount: Int
        var headHidden: Int
        var statisticsCount: Int
        var statisticsChecksum: String
        var step: Int
    }

    public static let format = "genomic-ulmfit-classifier"
    public static let version = 1

    public let model: ModelCheckpoint
    public let classCount: Int
    public let headHidden: Int
    public let params: [Float]
    public let statistics: [Float]

    /// The classifier's parameter layout (its tensors match `model`'s).
    public var parameters: ClassifierParameters {
        ClassifierParameters(config: model.config, classCount: classCount, headHidden: headHidden)
    }

    /// Writes a classifier checkpoint into `directory` (created if needed).
    public static func save(parameters: ClassifierParameters, params: UnsafePointer<Float>,
                            statistics: UnsafePointer<Float>, vocabulary: (tokens: [String], k: Int, stride: Int),
                            step: Int, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let statisticsData = Data(bytes: statistics, count: parameters.statisticsCount * MemoryLayout<Float>.size)
        let sidecar = Sidecar(classCount: parameters.classCount, headHidden: parameters.linear0.outputSize,
                              statisticsCount: parameters.statisticsCount,
                              statisticsChecksum: ModelCheckpoint.fnv1a(statisticsData), step: step)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try statisticsData.write(to: URL(fileURLWithPath: path(directory, "statistics.bin")), options: .atomic)
        try encoder.encode(sidecar).write(to: URL(fileURLWithPath: path(directory, "classifier.json")), options: .atomic)
        let model = ModelCheckpoint(kind: "classifier", config: parameters.encoder.config, vocabularyTokens: vocabulary.tokens,
                                    k: vocabulary.k, stride: vocabulary.stride, layout: parameters.layout, step: step)
        try model.save(params: params, to: directory)
    }

    /// Reads and verifies a classifier checkpoint; errors name the file at fault.
    public static func load(from directory: String) throws -> ClassifierCheckpoint {
        let (model, params) = try ModelCheckpoint.load(from: directory)
        let modelPath = path(directory, "model.json")
        guard model.kind == "classifier" else {
            throw CheckpointError(file: modelPath, "is a \(model.kind) checkpoint, not a classifier "
                + "(train one with `ulmfit train-classifier`)")
        }
        let sidecarPath = path(directory, "classifier.json"), statisticsPath = path(directory, "statistics.bin")
        guard let json = FileManager.default.contents(atPath: sidecarPath) else {
            throw CheckpointError(file: sidecarPath, "missing or unreadable")
        }
        let sidecar: Sidecar
        do {
            sidecar = try JSONDecoder().decode(Sidecar.self, from: json)
        } catch {
            throw CheckpointError(file: sidecarPath, "not a valid classifier header: \(error)")
        }
        guard sidecar.format == format, sidecar.version == version else {
            throw CheckpointError(file: sidecarPath, "format \"\(sidecar.format)\" version \(sidecar.version); "
                + "this build reads \"\(format)\" version \(version)")
        }
        guard sidecar.step == model.step else {
            throw CheckpointError(file: sidecarPath, "is from step \(sidecar.step) but model.json from step \(model.step): "
                + "parts of two different saves")
        }
        guard sidecar.classCount >= 2, sidecar.headHidden >= 1 else {
            throw CheckpointError(file: sidecarPath, "class count \(sidecar.classCount) and head size \(sidecar.headHidden) "
                + "must be at least 2 and 1")
        }
        let parameters = ClassifierParameters(config: model.config, classCount: sidecar.classCount,
                                              headHidden: sidecar.headHidden)
        try model.validate(against: parameters.layout, file: modelPath)
        guard model.parameterCount == parameters.layout.count else {
            throw CheckpointError(file: modelPath, "has \(model.parameterCount) parameters, the classifier it describes "
                + "has \(parameters.layout.count)")
        }
        guard sidecar.statisticsCount == parameters.statisticsCount else {
            throw CheckpointError(file: sidecarPath, "says \(sidecar.statisticsCount) statistics, the classifier "
                + "has \(parameters.statisticsCount)")
        }
        guard let data = FileManager.default.contents(atPath: statisticsPath) else {
            throw CheckpointError(file: statisticsPath, "missing or unreadable")
        }
        guard data.count == sidecar.statisticsCount * MemoryLayout<Float>.size else {
            throw CheckpointError(file: statisticsPath, "has \(data.count) bytes, expected \(sidecar.statisticsCount * 4): truncated")
        }
        guard ModelCheckpoint.fnv1a(data) == sidecar.statisticsChecksum else {
            throw CheckpointError(file: statisticsPath, "checksum mismatch (corrupted)")
        }
        let statistics = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return ClassifierCheckpoint(model: model, classCount: sidecar.classCount, headHidden: sidecar.headHidden,
                                    params: params, statistics: statistics)
    }

    private static func path(_ directory: String, _ file: String) -> String {
        (directory as NSString).appendingPathComponent(file)
    }
}
