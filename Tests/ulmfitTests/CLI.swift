import Foundation
import Testing

/// Runs the built `ulmfit` binary (beside the test bundle: `swift build --build-tests` builds both)
/// in a scratch folder with tiny inputs, and reports what a user would see.
final class CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Standard error, for messages.
        var error: String { stderr.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// The scratch folder (the working directory of every command); removed with this value.
    let folder: String

    /// The binary under test: $ULMFIT_BINARY if set (e.g. an older build, to see a test fail), else
    /// the one built beside the tests.
    static let binary: String = {
        if let given = ProcessInfo.processInfo.environment["ULMFIT_BINARY"] { return given }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ulmfit")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside.path }
        // `swift test` may start the tests through a helper: fall back to the package's build folder.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/ulmfit").path
    }()

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary),
                     "ulmfit binary not found at \(Self.binary): build with `swift build --build-tests`")
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// Runs `ulmfit args...` in `folder`.
    @discardableResult
    func run(_ args: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        // Output to files, read after the exit (no pipe to fill and block the process).
        let outPath = folder + "/.stdout", errPath = folder + "/.stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let stdout = try Data(contentsOf: URL(fileURLWithPath: outPath))
        let stderr = try Data(contentsOf: URL(fileURLWithPath: errPath))
        try FileManager.default.removeItem(atPath: outPath)
        try FileManager.default.removeItem(atPath: errPath)
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    func run(_ line: String) throws -> Result { try run(line.split(separator: " ").map(String.init)) }

    /// `path` inside the scratch folder.
    func path(_ relative: String) -> String { folder + "/" + relative }

    func write(_ relative: String, _ text: String) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    /// The weight shards of a run's newest checkpoint, in shard order.
    func weights(_ run: String) throws -> [Data] {
        let folder = path(run + "/checkpoints")
        let newest = try #require(try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasPrefix("step-") }.sorted().last, "no checkpoint in \(folder)")
        let shards = try FileManager.default.contentsOfDirectory(atPath: folder + "/" + newest)
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        try #require(!shards.isEmpty)
        return try shards.map { try Data(contentsOf: URL(fileURLWithPath: folder + "/" + newest + "/" + $0)) }
    }

    func read(_ relative: String) throws -> String { try String(contentsOfFile: path(relative), encoding: .utf8) }
    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }
    func data(_ relative: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(relative))) }

    // MARK: tiny inputs

    /// A 64-bit LCG (Knuth's MMIX constants): plenty for test data, the same on every host.
    private var state: UInt64 = 7
    private func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }

    /// `genome.fa`: 30 random records of 400 bases.
    func writeGenome() throws {
        var text = ""
        for r in 0 ..< 30 {
            text += ">chunk\(r)\n" + String((0 ..< 400).map { _ in Array("ACGT")[Int(next() % 4)] }) + "\n"
        }
        try write("genome.fa", text)
    }

    /// `labelled.csv` ('sequence,class', 160 rows of 40 bases; class 1 is G-rich) and its prepared
    /// split `dataset.csv` (`ulmfit prepare`).
    func writeDataset() throws {
        var text = "sequence,class\n"
        for i in 0 ..< 160 {
            let label = i % 2
            text += String((0 ..< 40).map { _ in label == 1 && next() % 2 == 0 ? "G" : Array("ACT")[Int(next() % 3)] })
                + ",\(label)\n"
        }
        try write("labelled.csv", text)
        let prepared = try run("prepare --csv labelled.csv --seed 1 --out . -q")
        try #require(prepared.status == 0, "prepare failed: \(prepared.error)")
    }

    /// Options for a tiny, fast language model / classifier.
    static let tinyLM = "--k 3 --stride 1 --emb 8 --hidden 12 --layers 2 --batch 4 --bptt 8 --max-steps 2 --workers 2 "
        + "--oversubscribe -q"
    static let tinyClassifier = "--batch 8 --bptt 16 --max-steps 1 --workers 2 --oversubscribe -q"
}
