import Foundation
import Testing
import GenomicData
@testable import ulmfit

/// `ulmfit predict` and `ulmfit scan` as a user runs them, on a classifier trained for one step
/// by `ulmfit train-classifier` (tiny model, k = 2).
@Suite(.serialized) struct PredictAndScanCommandTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("predict-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// A run folder holding a classifier trained for one step on 40 random 12-base sequences.
    func trainedClassifier() throws -> String {
        var dataset = PreparedDataset()
        var state: UInt64 = 3
        for (split, count) in [(DatasetSplit.train, 24), (.valid, 8), (.test, 8)] {
            var part = LabeledSequences()
            for i in 0 ..< count {
                part.append((0 ..< 12).map { _ in
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    return Array("ACGT".utf8)[Int(state >> 62)]
                }, label: Int32(i % 2))
            }
            dataset.splits[split] = part
        }
        try dataset.write(to: path("dataset.csv"))
        let run = path("classifier")
        try TrainClassifierCommand.parse([
            "--dataset", path("dataset.csv"), "--k", "2", "--stride", "1", "--emb", "8", "--hidden", "16", "--layers", "2",
            "--batch", "8", "--max-steps", "1", "--epochs", "1", "--workers", "2", "--oversubscribe", "--out", run,
        ]).run()
        return run
    }

    @Test func predictWritesOneRowPerValidRecordInOrderAndScanATrack() throws {
        let run = try trainedClassifier()
        let fasta = path("in.fa")
        try ">r1\nACGTACGTAA\n>bad\nACGNT\n>r2\nGGGGCCCCAAAATTTT\n>r3\nTTAC\n".write(toFile: fasta, atomically: true, encoding: .utf8)
        let out = path("predictions.csv")
        try PredictCommand.parse(["--model", run, fasta, "--out", out, "--workers", "2", "--oversubscribe"]).run()
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "id,length,p0,p1,predicted")
        #expect(lines.dropFirst().map { String($0.split(separator: ",")[0]) } == ["r1", "r2", "r3"])
        #expect(lines.dropFirst().map { String($0.split(separator: ",")[1]) } == ["10", "16", "4"])
        for line in lines.dropFirst() {
            let f = line.split(separator: ",")
            #expect(f.count == 5 && abs(Double(f[2])! + Double(f[3])! - 1) < 1e-4 && ["0", "1"].contains(f[4]))
        }
        // --on-invalid error: stops naming the record, writes nothing.
        let refused = path("refused.csv")
        #expect { try PredictCommand.parse(["--model", run, fasta, "--out", refused, "--on-invalid", "error",
                                            "--workers", "2", "--oversubscribe"]).run() }
        throws: { "\($0)".contains("record bad: holds 'N' at base 4") }
        #expect(!FileManager.default.fileExists(atPath: refused))

        let genome = path("genome.fa")
        try ">chrZ\n\(String(repeating: "ACGTTGCA", count: 8))NNNN\(String(repeating: "GATTACA", count: 6))\n"
            .write(toFile: genome, atomically: true, encoding: .utf8)
        let scan = path("scan")
        try ScanCommand.parse(["--model", run, "--window", "12", "--step", "4", "--top", "2", "--out", scan, genome,
                               "--workers", "2", "--oversubscribe"]).run()
        let track = try String(contentsOfFile: scan + "/scan.bedGraph", encoding: .utf8).split(separator: "\n")
        #expect(track.first?.hasPrefix("track type=bedGraph") == true)
        // 110 bases: starts 0, 4, ..., 96 (25 windows); those over the N at 64...67 (starts 56...64) skipped.
        let starts = track.dropFirst().map { Int($0.split(separator: "\t")[1])! - 4 }
        #expect(starts == stride(from: 0, through: 96, by: 4).filter { !(56 ... 64).contains($0) })
        #expect(try String(contentsOfFile: scan + "/top.bed", encoding: .utf8).split(separator: "\n").count == 2)
    }
}
