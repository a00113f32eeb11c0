import Foundation
import Testing
@testable import Checkpoint

/// A writer that stops at any point (the test hook stops it after the k-th durable step, as a
/// crash would: nothing cleaned up) never costs the previous checkpoint.
@Suite struct CheckpointCrashTests {
    @Test func aCrashAtAnyStepLeavesThePreviousCheckpointLoadable() throws {
        // 3 shards, manifest, SHA256SUMS, rename, latest, and one removal (keep 1): 8 steps.
        for k in 1 ... 8 {
            let fixture = CheckpointFixture()
            defer { fixture.remove() }
            try fixture.write(step: 100, keep: 1)
            #expect(throws: CheckpointWriter.SimulatedCrash.self, "k = \(k)") {
                try fixture.write(step: 200, keep: 1, crashAfter: k)
            }

            // The run resolves to an intact checkpoint: the new one once it was renamed into
            // place (k >= 6), the previous one before.
            let resolved = try CheckpointDirectory.resolve(fixture.run).checkpoint
            #expect(resolved.manifest.step == (k >= 6 ? 200 : 100), "k = \(k)")
            #expect(try resolved.assemble("params", range: 0 ..< 1000)
                == CheckpointFixture.values("params", step: resolved.manifest.step))
            if k < 8 {   // the previous checkpoint is still there and verifies
                #expect(try Checkpoint.open(fixture.folder(100)).manifest.step == 100, "k = \(k)")
            }
            // The next write removes the crashed writer's leftovers.
            try fixture.write(step: 300, keep: 1)
            let names = try FileManager.default.contentsOfDirectory(atPath: fixture.checkpoints).sorted()
            #expect(names == ["latest", "step-000300"], "k = \(k): \(names)")
        }
    }
}
