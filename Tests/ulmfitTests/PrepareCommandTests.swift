import Foundation
import Testing
import GenomicData
@testable import ulmfit

/// `ulmfit prepare` as a user types it: options parsed by the real command.
@Suite struct PrepareCommandTests {
    /// Issue 12: `--positive A.fa --positive B.fa` used only B. Every repeated input is kept.
    @Test func repeatedInputOptionsKeepEveryFile() throws {
        let command = try PrepareCommand.parse([
            "--positive", "A.fa", "--positive", "B.fa.gz", "--negative", "N.fa", "--negative", "M.fa",
            "--csv", "x.csv", "--csv", "y.csv", "--seed", "42", "--out", "o",
        ])
        #expect(command.positive == ["A.fa", "B.fa.gz"])
        #expect(command.negative == ["N.fa", "M.fa"])
        #expect(command.csv == ["x.csv", "y.csv"])
    }

    @Test(arguments: [
        (["--positive", "A.fa", "--seed", "1", "--out", "o"], "--positive and --negative go together"),
        (["--positive", "A.fa", "--negative", "A.fa", "--seed", "1", "--out", "o"], "A.fa is given twice"),
        (["--seed", "1", "--out", "o"], "give --positive P.fa --negative N.fa, or --csv FILE"),
        (["--positive", "A.fa", "--negative", "N.fa", "--split-column", "split", "--seed", "1", "--out", "o"],
         "--sequence-column, --label-column and --split-column are for --csv inputs"),
        (["--positive", "A.fa", "--csv", "x.csv", "--split-column", "split", "--seed", "1", "--out", "o"],
         "--split-column: FASTA inputs have no split column; give every input as --csv"),
    ])
    func conflictingInputsAreRefused(arguments: [String], message: String) {
        do {
            _ = try PrepareCommand.parse(arguments)
            Issue.record("accepted: \(arguments)")
        } catch {
            #expect(PrepareCommand.message(for: error).hasPrefix(message), "\(PrepareCommand.message(for: error))")
        }
    }

    /// End to end: the written dataset holds the sequences of both positive files.
    @Test func twoPositiveFilesEndToEnd() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let letters: [Character] = ["A", "C", "G", "T"]
        func fasta(_ name: String, from: Int) throws -> String {
            var text = ""
            for n in from ..< from + 10 {
                let bases: [Character] = (0 ..< 8).map { i in letters[(n >> (2 * i)) & 3] }
                text += ">s\(n)\n\(String(bases))\n"
            }
            let path = folder.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let a = try fasta("a.fa", from: 0), b = try fasta("b.fa", from: 10), n = try fasta("n.fa", from: 100)
        let out = folder.appendingPathComponent("out").path
        let command = try PrepareCommand.parse(["--positive", a, "--positive", b, "--negative", n, "--seed", "3", "--out", out])
        try command.run()
        let dataset = try PreparedDataset.load(path: out + "/dataset.csv")
        let labels = DatasetSplit.allCases.flatMap { dataset[$0].labels }
        #expect(labels.filter { $0 == 1 }.count == 20)
        #expect(labels.filter { $0 == 0 }.count == 10)
    }
}
