import Foundation
import Testing
@testable import Checkpoint

/// Seeded fuzzing of the checkpoint loader (600 damaged folders, 3000 damaged headers; a few
/// seconds): random truncations, byte flips and random bytes in
/// every file of a checkpoint. The loader must never crash, and every rejection must be a
/// `CheckpointError` naming a file. Also fuzzes the safetensors header parser on its own and
/// the manifest decoder with the checksums recomputed (so damage gets past SHA256SUMS).
@Suite struct CheckpointFuzzTests {
    /// SplitMix64: a small, seeded generator (reproducible cases).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    /// Damages `data` one of three ways.
    static func damage(_ data: Data, _ r: inout Random) -> Data {
        var d = data
        switch r.below(3) {
        case 0:   // truncate
            d = d.prefix(r.below(d.count))
        case 1:   // flip 1-4 bytes
            for _ in 0 ... r.below(4) where !d.isEmpty {
                let i = r.below(d.count)
                d[i] ^= UInt8(1 + r.below(255))
            }
        default:  // overwrite a run with random bytes
            guard !d.isEmpty else { break }
            let start = r.below(d.count), length = 1 + r.below(min(64, d.count - start))
            for i in start ..< start + length { d[i] = UInt8(truncatingIfNeeded: r.next()) }
        }
        return d
    }

    @Test func damagedCheckpointsAreRejectedWithNamedErrors() throws {
        let fixture = CheckpointFixture(inMemory: true)
        defer { fixture.remove() }
        try fixture.write(step: 1, shards: 2)
        let folder = fixture.folder(1)
        let files = ["manifest.json", "SHA256SUMS", CheckpointWriter.shardFileName(0, of: 2), CheckpointWriter.shardFileName(1, of: 2)]
        let originals = try files.map { try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)) }
        var r = Random(state: 2024)
        var rejected = 0, acceptedAfterRecomputedSums = 0
        for trial in 0 ..< 600 {
            let which = r.below(files.count)
            let damaged = Self.damage(originals[which], &r)
            // Every other trial recomputes SHA256SUMS so that the decoders behind it are reached.
            let recompute = trial % 2 == 1
            guard damaged != originals[which] || recompute else { continue }
            try damaged.write(to: URL(fileURLWithPath: folder + "/" + files[which]))
            if recompute && which != 1 { try refreshSums(folder) }
            do {
                let checkpoint = try Checkpoint.open(folder)
                // Only possible when the sums were recomputed over a change the format cannot
                // see (e.g. a digit of the step): then every tensor must still read back.
                #expect(recompute, "trial \(trial): damaged \(files[which]) was accepted")
                _ = try checkpoint.assemble("params", range: 0 ..< CheckpointFixture.parameterCount)
                acceptedAfterRecomputedSums += 1
            } catch let error as CheckpointError {
                #expect(!error.file.isEmpty && !error.message.isEmpty, "trial \(trial)")
                #expect(error.file.hasPrefix(folder), "trial \(trial): \(error) does not name a file of the checkpoint")
                rejected += 1
            } catch {
                Issue.record("trial \(trial): \(files[which]) damaged gave an unnamed error: \(error)")
            }
            for (name, data) in zip(files, originals) { try data.write(to: URL(fileURLWithPath: folder + "/" + name)) }
        }
        print("checkpoint fuzz: \(rejected) rejected, \(acceptedAfterRecomputedSums) accepted after recomputed sums")
        #expect(rejected > 400)
    }

    @Test func safetensorsHeaderParserSurvivesRandomHeaders() throws {
        let (header, size) = try SafeTensors.header([SafeTensorsEntry(name: "a", dtype: .f32, shape: [3, 2]),
                                                     SafeTensorsEntry(name: "b", dtype: .i64, shape: [])],
                                                    metadata: ["k": "v"])
        let json = Array(header.dropFirst(8))
        let good = try SafeTensors.parse(header: json, dataStart: header.count, fileSize: size, file: "x")
        #expect(good.entries.map(\.name) == ["a", "b"] && good.metadata == ["k": "v"])
        var r = Random(state: 7)
        var rejected = 0
        for trial in 0 ..< 3000 {
            let damaged = [UInt8](Self.damage(Data(json), &r))
            do {
                _ = try SafeTensors.parse(header: damaged, dataStart: 8 + damaged.count, fileSize: 8 + damaged.count + 32, file: "x")
            } catch let error as CheckpointError {
                #expect(error.file == "x" && !error.message.isEmpty, "trial \(trial)")
                rejected += 1
            } catch {
                Issue.record("trial \(trial): unnamed error \(error)")
            }
        }
        #expect(rejected > 2500)
    }
}
