import Checkpoint
import Foundation
import Testing

/// The real `ulmfit` process, killed mid-run (kill -9) or stopped (SIGTERM, as Slurm does before
/// a time limit) and resumed with `--resume`, ends with the same weights, moments and metrics
/// as a run that was never interrupted (same layout: bitwise; the shard files are compared
/// byte for byte).
@Suite(.serialized) struct ResumeProcessTests {
    /// The binary under test (`CLI.binary`: built beside the tests, or $ULMFIT_BINARY).
    static var binary: String { CLI.binary }

    /// A scratch folder with a random 12 kb genome, removed at the end.
    final class Scratch {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("resume-cli-\(UUID().uuidString)").path

        init() throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var state: UInt64 = 7   // a 64-bit LCG (Knuth's MMIX constants): the same genome on every host
            var text = ""
            for r in 0 ..< 30 {
                text += ">chunk\(r)\n" + String((0 ..< 400).map { _ -> Character in
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    return Array("ACGT")[Int((state >> 33) % 4)]
                }) + "\n"
            }
            try text.write(toFile: folder + "/genome.fa", atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        /// `ulmfit args` started in the scratch folder, output to `name.out`/`name.err`.
        func start(_ args: [String], name: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ResumeProcessTests.binary)
            process.arguments = args
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            for stream in ["out", "err"] {
                guard FileManager.default.createFile(atPath: "\(folder)/\(name).\(stream)", contents: nil) else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "\(folder)/\(name).\(stream)"])
                }
            }
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/\(name).out"))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/\(name).err"))
            try process.run()
            return process
        }

        /// Runs `ulmfit args` to the end; returns its exit status and standard error.
        @discardableResult
        func run(_ args: [String], name: String) throws -> (status: Int32, stderr: String) {
            let process = try start(args, name: name)
            process.waitUntilExit()
            return (process.terminationStatus, try String(contentsOfFile: "\(folder)/\(name).err", encoding: .utf8))
        }

        /// Waits until `run` has a checkpoint (its `latest` pointer); false if `process` ended first.
        func waitForCheckpoint(of run: String, while process: Process) -> Bool {
            let latest = "\(folder)/\(run)/checkpoints/latest"
            while process.isRunning {
                if FileManager.default.fileExists(atPath: latest) { return true }
                usleep(10_000)
            }
            return false
        }
    }

    /// Tiny model, 2 workers, 1 epoch of ~150 steps, a checkpoint every 20 steps.
    static func trainArgs(out: String, extra: [String] = []) -> [String] {
        ["train-lm", "--fasta", "genome.fa", "--max-bases", "6000", "--k", "3", "--stride", "1", "--emb", "8", "--hidden", "12",
         "--layers", "2", "--batch", "4", "--bptt", "8", "--eval-every", "50", "--workers", "2", "--oversubscribe",
         "--checkpoint-every", "20", "--keep", "2", "--out", out] + extra
    }

    /// Expects run folders `a` and `b` to end with the same tensors, bit for bit (byte-identical
    /// shard files when both were written with the same layout), and the same metrics.
    static func expectSameRuns(_ scratch: Scratch, _ a: String, _ b: String) throws {
        let dirA = "\(scratch.folder)/\(a)/checkpoints", dirB = "\(scratch.folder)/\(b)/checkpoints"
        let latest = try String(contentsOfFile: dirA + "/latest", encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(try String(contentsOfFile: dirB + "/latest", encoding: .utf8).trimmingCharacters(in: .newlines) == latest)
        let x = try Checkpoint.open("\(dirA)/\(latest)"), y = try Checkpoint.open("\(dirB)/\(latest)")
        if x.manifest.shards.count == y.manifest.shards.count {
            for shard in x.manifest.shards {
                #expect(try Data(contentsOf: URL(fileURLWithPath: "\(x.path)/\(shard.file)"))
                        == Data(contentsOf: URL(fileURLWithPath: "\(y.path)/\(shard.file)")), "\(latest)/\(shard.file) differs")
            }
        }
        let count = x.manifest.parameters.count
        for name in ["params", "exp_avg", "exp_avg_sq"] {
            #expect(try x.assemble(name, range: 0 ..< count).map(\.bitPattern) == y.assemble(name, range: 0 ..< count).map(\.bitPattern),
                    "\(name) differs")
        }
        for name in x.manifest.shards[0].tensors.map(\.name) where name.hasPrefix("recurrent.") {
            #expect(try x.concatenated(name).values.map(\.bitPattern) == y.concatenated(name).values.map(\.bitPattern),
                    "\(name) differs")
        }
        func rows(_ run: String, _ log: String) throws -> [String] {
            // Drop the time columns (tokens_per_s and the *_ms split): the rest is computed.
            try String(contentsOfFile: "\(scratch.folder)/\(run)/\(log).jsonl", encoding: .utf8).split(separator: "\n").map {
                $0.replacingOccurrences(of: #","tokens_per_s":.*$"#, with: "", options: .regularExpression)
            }
        }
        for log in ["metrics", "valid"] {
            let x = try rows(a, log), y = try rows(b, log)
            #expect(!x.isEmpty && x == y, "\(log).jsonl differs: \(x.count) vs \(y.count) rows")
        }
    }

    /// In deterministic mode, resumed on one worker instead of two: re-sharded, still bitwise.
    @Test func killMinus9MidRunThenResumeEqualsTheUninterruptedRun() throws {
        let scratch = try Scratch()
        let deterministic = ["--deterministic-shards", "2"]
        let whole = try scratch.run(Self.trainArgs(out: "whole", extra: deterministic), name: "whole")
        try #require(whole.status == 0, "uninterrupted run failed: \(whole.stderr)")

        let victim = try scratch.start(Self.trainArgs(out: "killed", extra: deterministic), name: "killed")
        try #require(scratch.waitForCheckpoint(of: "killed", while: victim), "the run ended before its first checkpoint")
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(victim.terminationReason == .uncaughtSignal && victim.terminationStatus == SIGKILL,
                "killed mid-run (it must not have finished first)")

        let resumed = try scratch.run(["train-lm", "--resume", "killed", "--workers", "1"], name: "resumed")
        try #require(resumed.status == 0, "resume failed: \(resumed.stderr)")
        // Logs go to standard error (results to standard output).
        let log = try String(contentsOfFile: scratch.folder + "/resumed.err", encoding: .utf8)
        #expect(log.contains("--resume: using killed/checkpoints/step-") && log.contains("resuming at step"))
        try Self.expectSameRuns(scratch, "whole", "killed")
    }

    @Test func sigtermWritesACheckpointAndThePrintedCommandResumesIt() throws {
        let scratch = try Scratch()
        let whole = try scratch.run(Self.trainArgs(out: "whole"), name: "whole")
        try #require(whole.status == 0, "uninterrupted run failed: \(whole.stderr)")

        let stopped = try scratch.start(Self.trainArgs(out: "stopped"), name: "stopped")
        try #require(scratch.waitForCheckpoint(of: "stopped", while: stopped), "the run ended before its first checkpoint")
        kill(stopped.processIdentifier, SIGTERM)
        stopped.waitUntilExit()
        let stderr = try String(contentsOfFile: scratch.folder + "/stopped.err", encoding: .utf8)
        #expect(stopped.terminationReason == .exit && stopped.terminationStatus == 128 + SIGTERM, "\(stderr)")
        #expect(stderr.contains("stopped by SIGTERM after step "), "\(stderr)")
        let line = try #require(stderr.split(separator: "\n").first { $0.hasPrefix("resume with: ") })
        let command = line.dropFirst("resume with: ".count).split(separator: " ").map(String.init)
        #expect(command == [Self.binary, "train-lm", "--resume", "stopped"])

        let resumed = try scratch.run(Array(command.dropFirst()), name: "resumed")
        try #require(resumed.status == 0, "resume failed: \(resumed.stderr)")
        try Self.expectSameRuns(scratch, "whole", "stopped")
    }

    @Test func resumeNamesTheSettingThatContradictsTheCheckpoint() throws {
        let scratch = try Scratch()
        let stopped = try scratch.start(Self.trainArgs(out: "run"), name: "run")
        try #require(scratch.waitForCheckpoint(of: "run", while: stopped), "the run ended before its first checkpoint")
        kill(stopped.processIdentifier, SIGKILL)
        stopped.waitUntilExit()
        let lr = try scratch.run(["train-lm", "--resume", "run", "--lr", "0.01"], name: "lr")
        #expect(lr.status != 0 && lr.stderr.contains("'config.training.lr': the checkpoint was written with a different value "
            + "(0.002 in the checkpoint, 0.01 now)"), "\(lr.stderr)")
        try #require(try scratch.run(["vocab", "--k", "2", "--stride", "1", "--out", "k2.json", "genome.fa"], name: "vocab").status == 0)
        let vocab = try scratch.run(["train-lm", "--resume", "run", "--vocab", "k2.json"], name: "resume-vocab")
        #expect(vocab.status != 0 && vocab.stderr.contains("'vocabulary.sha256': the vocabulary given differs"), "\(vocab.stderr)")
        let out = try scratch.run(["train-lm", "--resume", "run", "--out", "elsewhere"], name: "out")
        #expect(out.status != 0 && out.stderr.contains("a resumed run continues in its own folder"), "\(out.stderr)")
        let kind = try scratch.run(["train-classifier", "--resume", "run"], name: "kind")
        #expect(kind.status != 0 && kind.stderr.contains("'kind'") && kind.stderr.contains("ulmfit train-classifier"),
                "\(kind.stderr)")
    }
}
