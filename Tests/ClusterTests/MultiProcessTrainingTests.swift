import Foundation
import Pipeline
import Testing

/// The training commands as real processes under mpirun: 2 processes x 1 worker train the model
/// 1 process x 2 workers trains (bitwise in deterministic mode, to rounding otherwise), and
/// rank 0 alone writes the results. The inputs are small random DNA files written here.
@Suite(.serialized, .enabled(if: MPIJob.enabled, MPIJob.skipReason))
struct MultiProcessTrainingTests {
    /// A scratch directory with a random genome (3 records of 6 kb) and a labelled set (60
    /// GC-rich positives, 60 AT-rich negatives) prepared by `ulmfit prepare`.
    final class Inputs {
        let directory: URL
        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("mpi-train-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var state: UInt64 = 12345
            func base(_ alphabet: [Character]) -> Character {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return alphabet[Int(state >> 33) % alphabet.count]
            }
            var genome = ""
            for r in 0 ..< 3 { genome += ">chr\(r)\n" + String((0 ..< 6_000).map { _ in base(["A", "C", "G", "T"]) }) + "\n" }
            try genome.write(to: directory.appendingPathComponent("genome.fa"), atomically: true, encoding: .utf8)
            for (name, alphabet) in [("pos", Array("ACGTGCGC")), ("neg", Array("ACGTATAT"))] {
                let records = (0 ..< 60).map { i in ">\(name)\(i)\n" + String((0 ..< 40).map { _ in base(alphabet) }) }
                try (records.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("\(name).fa"),
                                                                 atomically: true, encoding: .utf8)
            }
            let prepare = try MPIJob(processes: nil, ["prepare", "--positive", path("pos.fa"), "--negative", path("neg.fa"),
                                                      "--seed", "42", "--out", path("set")])
            guard prepare.waitForExit(timeout: 120) == 0 else { throw MPIJob.JobError("prepare failed:\n\(prepare.output)") }
        }
        deinit { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    }

    static let lmArguments = ["train-lm", "--k", "3", "--stride", "1", "--emb", "16", "--hidden", "24", "--layers", "2",
                              "--batch", "8", "--bptt", "10", "--max-steps", "4", "--clip", "0.1", "--eval-every", "2",
                              "--checkpoint-every", "1", "--keep", "5", "--mpi-timeout", "120"]
    static let classifierArguments = ["train-classifier", "--k", "3", "--stride", "1", "--emb", "12", "--hidden", "16",
                                      "--layers", "2", "--batch", "8", "--bptt", "10", "--epochs", "1", "--max-steps", "3",
                                      "--clip", "0.1", "--mpi-timeout", "120"]

    /// Runs `arguments` as 1 process x 2 workers and as 2 processes x 1 worker; returns both
    /// output directories after checking that both runs succeeded and rank 0 alone printed.
    static func runBoth(_ arguments: [String], inputs: Inputs, name: String) throws -> (one: String, two: String) {
        let one = inputs.path("\(name)-1x2"), two = inputs.path("\(name)-2x1")
        let single = try MPIJob(processes: nil, arguments + ["--workers", "2", "--oversubscribe", "--out", one])
        try #require(single.waitForExit(timeout: 300) == 0, Comment(rawValue: single.output))
        let job = try MPIJob(processes: 2, arguments + ["--workers", "1", "--out", two])
        try #require(job.waitForExit(timeout: 300) == 0, Comment(rawValue: job.output))
        // Logs on stderr, from rank 0 alone: one transport line, one summary of the model.
        #expect(job.stderr.components(separatedBy: "transport: MPI").count == 2, "one transport line, from rank 0:\n\(job.stderr)")
        #expect(job.stderr.components(separatedBy: "in each of 2 processes").count == 2, "\(job.stderr)")
        #expect(job.stdout.components(separatedBy: "results in").count == 2, "one result line, from rank 0:\n\(job.stdout)")
        return (one, two)
    }

    /// The weights (and BatchNorm statistics) of a run folder's latest checkpoint, as bit patterns.
    static func weights(_ run: String) throws -> [UInt32] {
        let model = try ModelCheckpoint.load(from: run)
        return (model.params + model.statistics).map(\.bitPattern)
    }

    static func lines(_ path: String) throws -> Int {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
    }

    /// Deterministic mode: the language model's weights and validation losses are the same bits,
    /// the vocabulary the same file; the metrics hold each step once (rank 0 alone wrote them);
    /// and either run's checkpoint resumes with the other process count.
    @Test func languageModelTwoProcessesEqualTwoWorkersBitwise() throws {
        let inputs = try Inputs()
        let (one, two) = try Self.runBoth(Self.lmArguments + ["--fasta", inputs.path("genome.fa"), "--deterministic-shards", "2"],
                                          inputs: inputs, name: "lm")
        #expect(try Self.weights(one) == Self.weights(two), "weights differ")
        #expect(FileManager.default.contentsEqual(atPath: "\(one)/vocab.json", andPath: "\(two)/vocab.json"))
        #expect(try Self.lines("\(two)/metrics.jsonl") == 4)
        #expect(try Self.lines("\(two)/valid.jsonl") == 3)
        let loss = { (dir: String) in try String(contentsOfFile: "\(dir)/valid.csv", encoding: .utf8) }
        #expect(try loss(one) == loss(two), "validation losses")

        // Resume across process counts: the 2-process run's step-3 checkpoint continued by one
        // process of 2 workers, and the 1-process run's by 2 processes, end with the weights and
        // metrics of the runs that were not interrupted (the checkpoints hold every stream's
        // recurrent state, gathered by rank 0, and the moments, the same on every process). Step
        // 3, not 2: a validation (at 2 and 4) resets the recurrent state, which would then be 0.
        for (from, resumedBy, name) in [(two, nil as Int?, "2-to-1"), (one, 2, "1-to-2")] {
            let copy = inputs.path("lm-resumed-\(name)")
            try FileManager.default.copyItem(atPath: from, toPath: copy)
            let layout = resumedBy == nil ? ["--workers", "2", "--oversubscribe"] : ["--workers", "1"]
            let resumed = try MPIJob(processes: resumedBy, ["train-lm", "--resume", "\(copy)/checkpoints/step-000003",
                                                            "--mpi-timeout", "120"] + layout)
            try #require(resumed.waitForExit(timeout: 300) == 0, Comment(rawValue: resumed.output))
            #expect(resumed.stderr.contains("resuming at step 3 (epoch 1, window 3)"), "\(resumed.stderr)")
            #expect(try Self.weights(copy) == Self.weights(from), "\(name): weights after the resumed run")
            let metrics = { (dir: String) in try String(contentsOfFile: "\(dir)/valid.jsonl", encoding: .utf8) }
            #expect(try metrics(copy) == metrics(from), "\(name): validation log")
        }
    }

    /// Default mode: the same weights to rounding (1e-6 relative to max(1, |w|); see
    /// MultiProcessTrainerTests for why), for the language model and the classifier.
    @Test func defaultModeMatchesToRounding() throws {
        let inputs = try Inputs()
        let lm = try Self.runBoth(Self.lmArguments + ["--fasta", inputs.path("genome.fa")], inputs: inputs, name: "lm")
        let classifier = try Self.runBoth(Self.classifierArguments + ["--dataset", inputs.path("set/dataset.csv")],
                                          inputs: inputs, name: "classifier")
        for (what, dirs) in [("language model", lm), ("classifier", classifier)] {
            let a = try ModelCheckpoint.load(from: dirs.one).params, b = try ModelCheckpoint.load(from: dirs.two).params
            try #require(a.count == b.count && !a.isEmpty, "\(what): \(a.count) against \(b.count) parameters")
            let worst = zip(a, b).map { abs(Double($0) - Double($1)) / max(1, abs(Double($1))) }.max()!
            #expect(worst <= 1e-6, "\(what): largest relative difference \(worst)")
        }
    }

    /// The job's checks run before anything is written: a batch that each process's own checks
    /// accept (2 streams for its 1 worker) but the job cannot split (2 processes x 2 workers)
    /// fails on every process with the key named, and rank 0 has written nothing (no results
    /// folder). Without that agreement rank 0 would write config.yaml and vocab.json first.
    @Test func theJobIsCheckedBeforeRankZeroWrites() throws {
        let inputs = try Inputs()
        let out = inputs.path("lm-refused")
        let job = try MPIJob(processes: 2, Self.lmArguments + ["--fasta", inputs.path("genome.fa"), "--batch", "3",
                                                              "--workers", "2", "--oversubscribe", "--out", out])
        let status = job.waitForExit(timeout: 300)
        #expect(status != nil && status != 0, "\(job.output)")
        #expect(job.stderr.contains("training.batch") && job.stderr.contains("cannot be split across 4 workers"),
                "\(job.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "rank 0 wrote before the job was checked")
    }

    /// `ulmfit run` reads what its earlier stages wrote: under mpirun it refuses at once, saying
    /// what to run instead, and writes nothing.
    @Test func thePipelineCommandRefusesSeveralProcesses() throws {
        let inputs = try Inputs()
        let job = try MPIJob(processes: 2, ["run", "--set", "data.fasta=\(inputs.path("genome.fa"))",
                                            "--set", "data.dataset=\(inputs.path("set/dataset.csv"))",
                                            "--out", inputs.path("pipeline")])
        let status = job.waitForExit(timeout: 120)
        #expect(status != nil && status != 0, "\(job.output)")
        // Rank 0 alone says why (two ranks writing at once would interleave their lines).
        #expect(job.stderr.components(separatedBy: "ulmfit run runs every stage in one process").count == 2,
                "\(job.stderr)")
        #expect(!FileManager.default.fileExists(atPath: inputs.path("pipeline")))
    }

    /// Deterministic mode for the classifier: weights, BatchNorm statistics and test predictions
    /// are the same bits; the results are written once.
    @Test func classifierTwoProcessesEqualTwoWorkersBitwise() throws {
        let inputs = try Inputs()
        let (one, two) = try Self.runBoth(Self.classifierArguments + ["--dataset", inputs.path("set/dataset.csv"),
                                                                      "--deterministic-shards", "2"],
                                          inputs: inputs, name: "classifier")
        #expect(try Self.weights(one) == Self.weights(two), "weights or statistics differ")
        for file in ["predictions.csv", "test.json"] {
            #expect(FileManager.default.contentsEqual(atPath: "\(one)/\(file)", andPath: "\(two)/\(file)"), "\(file) differs")
        }
        #expect(try Self.lines("\(two)/metrics.jsonl") == 3)
    }
}
