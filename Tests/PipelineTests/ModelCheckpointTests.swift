import Foundation
import Kernels
import Model
@testable import Pipeline
import Testing

/// Checkpoints round-trip exactly, and every kind of damage is reported with the file at fault.
@Suite struct ModelCheckpointTests {
    let config = AWDLSTMConfig(vocabSize: 6, embeddingSize: 4, hiddenSize: 5, layerCount: 2)

    func saved() throws -> (String, [Float]) {
        let parameters = LanguageModelParameters(config: config)
        let params = FloatBuffer(count: parameters.layout.count)
        parameters.initialize(params.pointer, seed: 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
        let header = ModelCheckpoint(kind: "language-model", config: config, vocabularyTokens: ["xxpad", "xxunk", "A", "C", "G", "T"],
                                     k: 1, stride: 1, layout: parameters.layout, step: 7)
        try header.save(params: params.pointer, to: dir)
        return (dir, params.array)
    }

    @Test func roundTripIsExact() throws {
        let (dir, params) = try saved()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (header, loaded) = try ModelCheckpoint.load(from: dir)
        #expect(loaded == params)
        #expect(header.step == 7 && header.config == config)
        try header.validate(against: LanguageModelParameters(config: config).layout, file: dir)
    }

    @Test func corruptionTruncationAndMismatchAreNamed() throws {
        let (dir, _) = try saved()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paramsPath = dir + "/params.bin"
        var data = try Data(contentsOf: URL(fileURLWithPath: paramsPath))
        data[10] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: paramsPath))
        #expect { try ModelCheckpoint.load(from: dir) } throws: { error in
            "\(error)".contains("params.bin") && "\(error)".contains("checksum mismatch")
        }
        try data.prefix(100).write(to: URL(fileURLWithPath: paramsPath))
        #expect { try ModelCheckpoint.load(from: dir) } throws: { error in
            "\(error)".contains("params.bin") && "\(error)".contains("truncated")
        }
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: dir + "/model.json"))
        #expect { try ModelCheckpoint.load(from: dir) } throws: { error in
            "\(error)".contains("model.json") && "\(error)".contains("not a valid checkpoint header")
        }
        #expect { try ModelCheckpoint.load(from: dir + "/missing") } throws: { error in "\(error)".contains("missing") }
    }

    @Test func aCheckpointOfAnotherShapeIsRejected() throws {
        let (dir, _) = try saved()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (header, _) = try ModelCheckpoint.load(from: dir)
        let other = LanguageModelParameters(config: AWDLSTMConfig(vocabSize: 6, embeddingSize: 4, hiddenSize: 7, layerCount: 2))
        #expect { try header.validate(against: other.layout, file: "m.json") } throws: { error in
            "\(error)".contains("rnns.0.weight_ih") && "\(error)".contains("m.json")
        }
    }
}
