import Foundation
import Testing
import GenomicData
@testable import ulmfit

/// Issue 12's reproductions for `tokenize` and `vocab`, run through the real commands.
@Suite struct TokenizeAndVocabCommandTests {
    @Test(arguments: [["HELLOWORLD"], ["ACGT", "ACGU"], ["A\u{FFFD}"]])
    func tokenizeRefusesWhatIsNotDNA(sequences: [String]) throws {
        let command = try TokenizeCommand.parse(["--k", "3"] + sequences)
        #expect(throws: DataError.self) { try command.run() }
    }

    /// `head -c N genome.fa.gz > t.gz; ulmfit vocab ... t.gz` wrote a vocabulary of half a genome.
    @Test func vocabRefusesATruncatedGzipAndWritesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = (0 ..< 200).map { i in ">r\(i)\n" + String(repeating: ["ACGTTGCA", "GGATCCTA", "TTAGGCAC"][i % 3], count: 8 + i % 5) }
            .joined(separator: "\n") + "\n"
        let plain = folder.appendingPathComponent("g.fa").path
        try text.write(toFile: plain, atomically: true, encoding: .utf8)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(plain)' > '\(plain).gz'"]   // gzip is on every Debian (essential)
        try gzip.run()
        gzip.waitUntilExit()
        let whole = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
        try #require(whole.count > 200)
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: plain + ".cut.gz"))
        let out = folder.appendingPathComponent("v.json").path
        // The whole file makes a vocabulary; half of it is an error.
        try VocabCommand.parse(["--k", "3", "--stride", "1", "--out", out, plain + ".gz"]).run()
        try FileManager.default.removeItem(atPath: out)
        let command = try VocabCommand.parse(["--k", "3", "--stride", "1", "--out", out, plain + ".cut.gz"])
        #expect(throws: DataError.self) { try command.run() }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
