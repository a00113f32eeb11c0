import Foundation
import Testing
@testable import Checkpoint

/// The checkpoint folder format: exact round trips, re-sharding, atomic replacement, keep-K,
/// and every integrity failure reported with the file and field at fault.
@Suite struct CheckpointTests {
    @Test func writtenShardsReadBackExactlyInAnyRange() throws {
        let fixture = CheckpointFixture()
        defer { fixture.remove() }
        let path = try fixture.write(step: 7, shards: 3)
        #expect(path == fixture.folder(7))
        let resolved = try CheckpointDirectory.resolve(fixture.run)
        let checkpoint = resolved.checkpoint
        #expect(resolved.skipped.isEmpty && checkpoint.path == fixture.folder(7))
        #expect(checkpoint.manifest.step == 7 && checkpoint.manifest.config == CheckpointFixture.config)
        #expect(checkpoint.manifest.layout.shardCount == 3 && checkpoint.manifest.shards.map(\.range) == CheckpointFixture.slices(3))
        for name in ["params", "exp_avg", "exp_avg_sq"] {
            let expected = CheckpointFixture.values(name, step: 7)
            #expect(try checkpoint.assemble(name, range: 0 ..< 1000) == expected)
            // Re-sharding: the slices of 2 and of 5 workers, and ranges that straddle shards.
            for n in [1, 2, 5] {
                for slice in CheckpointFixture.slices(n) {
                    #expect(try checkpoint.assemble(name, range: slice) == Array(expected[slice]))
                }
            }
            #expect(try checkpoint.assemble(name, range: 330 ..< 670) == Array(expected[330 ..< 670]))
            #expect(try checkpoint.assemble(name, range: 500 ..< 500).isEmpty)
        }
        #expect(try checkpoint.floats("batchnorm.statistics", shard: 0) == CheckpointFixture.values("statistics", step: 7, count: 8))
        #expect(try String(contentsOfFile: fixture.checkpoints + "/latest", encoding: .utf8) == "step-000007\n")
        #expect { try checkpoint.assemble("params", range: 990 ..< 1001) } throws: { "\($0)".contains("outside") }
        #expect { try checkpoint.floats("batchnorm.statistics", shard: 1) } throws: {
            "\($0)".contains("shard-00001-of-00003.safetensors") && "\($0)".contains("batchnorm.statistics")
        }
    }

    @Test func keepsTheNewestKAndRewritesAStepInPlace() throws {
        let fixture = CheckpointFixture()
        defer { fixture.remove() }
        for step in [1, 2, 3, 4, 5] { try fixture.write(step: step, shards: 2, keep: 2) }
        #expect(CheckpointDirectory.checkpointSteps(in: fixture.checkpoints).sorted() == [4, 5])
        // The same step again (e.g. written again after a resume) replaces the folder whole.
        try fixture.write(step: 5, shards: 3, keep: 2)
        let checkpoint = try CheckpointDirectory.resolve(fixture.run).checkpoint
        #expect(checkpoint.manifest.shards.count == 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: fixture.checkpoints).sorted()
        #expect(names == ["latest", "step-000004", "step-000005"])
    }

    @Test func aCheckpointFolderGivenDirectlyIsUsedAsIs() throws {
        let fixture = CheckpointFixture()
        defer { fixture.remove() }
        try fixture.write(step: 1)
        try fixture.write(step: 2)
        #expect(try CheckpointDirectory.resolve(fixture.folder(1)).checkpoint.manifest.step == 1)
        #expect(try CheckpointDirectory.resolve(fixture.run).checkpoint.manifest.step == 2)
    }

    /// The integrity errors of issue 13, each naming the file (and field where there is one).
    @Test func everyKindOfDamageIsANamedError() throws {
        let fixture = CheckpointFixture()
        defer { fixture.remove() }
        func expectError(_ what: String, _ mentions: [String], _ damage: () throws -> Void) throws {
            try fixture.write(step: 3)
            try damage()
            do {
                _ = try Checkpoint.open(fixture.folder(3))
                Issue.record("\(what): opened without an error")
            } catch let error as CheckpointError {
                for text in mentions {
                    #expect("\(error)".contains(text), "\(what): \(error) does not mention \(text)")
                }
            }
        }
        let shard1 = fixture.shard(3, 1)
        try expectError("truncated shard", ["shard-00001-of-00003.safetensors", "truncated"]) {
            let data = try Data(contentsOf: URL(fileURLWithPath: shard1))
            try data.prefix(data.count - 5).write(to: URL(fileURLWithPath: shard1))
        }
        try expectError("flipped byte", ["shard-00001-of-00003.safetensors", "checksum mismatch"]) {
            var data = try Data(contentsOf: URL(fileURLWithPath: shard1))
            data[data.count - 3] ^= 0x40
            try data.write(to: URL(fileURLWithPath: shard1))
        }
        try expectError("missing shard", ["shard-00001-of-00003.safetensors", "missing shard"]) {
            try FileManager.default.removeItem(atPath: shard1)
        }
        try expectError("edited manifest", ["manifest.json", "checksum mismatch"]) {
            let path = fixture.folder(3) + "/manifest.json"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "\"step\" : 3", with: "\"step\" : 4").write(toFile: path, atomically: false, encoding: .utf8)
        }
        try expectError("unknown format version", ["manifest.json", "formatVersion", "is 2"]) {
            let path = fixture.folder(3) + "/manifest.json"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 2")
                .write(toFile: path, atomically: false, encoding: .utf8)
            try refreshSums(fixture.folder(3))
        }
        try expectError("missing field", ["manifest.json", "vocabulary"]) {
            let path = fixture.folder(3) + "/manifest.json"
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            object["vocabulary"] = nil
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
            try refreshSums(fixture.folder(3))
        }
        try expectError("vocabulary edited with the sums fixed", ["manifest.json", "vocabulary.sha256"]) {
            let path = fixture.folder(3) + "/manifest.json"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "\"GT\"", with: "\"GG\"").write(toFile: path, atomically: false, encoding: .utf8)
            try refreshSums(fixture.folder(3))
        }
        try expectError("missing SHA256SUMS", ["SHA256SUMS", "missing"]) {
            try FileManager.default.removeItem(atPath: fixture.folder(3) + "/SHA256SUMS")
        }
        try expectError("missing manifest", ["manifest.json", "missing"]) {
            try FileManager.default.removeItem(atPath: fixture.folder(3) + "/manifest.json")
        }
    }

    @Test func aConfigOrVocabularyThatContradictsTheManifestNamesTheField() throws {
        let manifest = CheckpointFixture.manifest(step: 1, shards: 1)
        try manifest.check(config: CheckpointFixture.config, vocabulary: CheckpointFixture.vocabulary.tokens, file: "m.json")
        var other = CheckpointFixture.config
        if case var .object(top) = other, case var .object(training)? = top["training"] {
            training["lr"] = .double(0.003)
            top["training"] = .object(training)
            other = .object(top)
        }
        #expect { try manifest.check(config: other, vocabulary: nil, file: "m.json") } throws: { error in
            let e = error as! CheckpointError
            return e.file == "m.json" && e.field == "config.training.lr" && "\(e)".contains("0.002") && "\(e)".contains("0.003")
        }
        let fasta: JSONValue = .object(["training": CheckpointFixture.config["training"]!,
                                        "data": .object(["fasta": .array([.string("a.fa")])])])
        #expect { try manifest.check(config: fasta, vocabulary: nil, file: "m.json") } throws: {
            ($0 as! CheckpointError).field == "config.data.fasta[1]"
        }
        #expect { try manifest.check(config: nil, vocabulary: ["xxpad", "xxunk", "AC", "GG"], file: "m.json") } throws: {
            ($0 as! CheckpointError).field == "vocabulary.sha256" && "\($0)".contains("token id 3")
        }
        #expect { try manifest.check(config: nil, vocabulary: CheckpointFixture.vocabulary.tokens, k: 3, file: "m.json") } throws: {
            "\($0)".contains("k/stride")
        }
    }

    @Test func aRunFallsBackToTheNewestIntactCheckpointAndSaysWhy() throws {
        let fixture = CheckpointFixture()
        defer { fixture.remove() }
        try fixture.write(step: 10)
        try fixture.write(step: 20)
        try FileManager.default.removeItem(atPath: fixture.shard(20, 2))
        let resolution = try CheckpointDirectory.resolve(fixture.run)
        #expect(resolution.checkpoint.manifest.step == 10)
        #expect(resolution.skipped.count == 1)
        #expect(resolution.summary.contains("step-000010") && resolution.summary.contains("skipped step-000020")
            && resolution.summary.contains("shard-00002-of-00003.safetensors") && resolution.summary.contains("missing"))
        try FileManager.default.removeItem(atPath: fixture.shard(10, 0))
        #expect { try CheckpointDirectory.resolve(fixture.run) } throws: {
            "\($0)".contains("no checkpoint in it verifies") && "\($0)".contains("step-000010") && "\($0)".contains("step-000020")
        }
    }

    @Test func pathsThatAreNotCheckpointsSaySo() throws {
        let fixture = CheckpointFixture()
        defer { fixture.remove() }
        #expect { try CheckpointDirectory.resolve(fixture.run) } throws: { "\($0)".contains("does not exist") }
        try FileManager.default.createDirectory(atPath: fixture.run, withIntermediateDirectories: true)
        #expect { try CheckpointDirectory.resolve(fixture.run) } throws: { "\($0)".contains("neither a run folder") }
        try Data("{}".utf8).write(to: URL(fileURLWithPath: fixture.run + "/model.json"))
        #expect { try CheckpointDirectory.resolve(fixture.run) } throws: { "\($0)".contains("old format") }
    }
}
