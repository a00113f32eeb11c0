import Foundation
import Testing
import GenomicData
import Model
@testable import Pipeline

/// A stand-in classifier whose class-1 probability identifies the window: the first token's id
/// over the vocabulary size. Records the batches it was asked for.
final class FirstTokenClassifier: SequenceClassifier {
    let classCount = 2
    let maxLength = 10_000
    let vocabularySize: Float
    private(set) var calls: [[[Int32]]] = []
    init(vocabularySize: Int) { self.vocabularySize = Float(vocabularySize) }
    func probabilities(_ sequences: [[Int32]]) throws -> [[Float]] {
        calls.append(sequences)
        return sequences.map { let p = Float($0[0]) / vocabularySize; return [1 - p, p] }
    }
}

/// `ulmfit scan`'s windows, N handling, bedGraph and top.bed, with a stand-in classifier whose
/// score of each window is known.
@Suite struct GenomeScanTests {
    static func encoder() throws -> KmerEncoder {
        try KmerEncoder(vocabulary: Vocabulary(kmers: ["A", "C", "G", "T"], k: 1, stride: 1))
    }

    static func write(_ fasta: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scan-\(UUID().uuidString).fa").path
        try! fasta.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func out() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("scan-out-\(UUID().uuidString)").path
    }

    /// Data lines of a bedGraph (after the track line), parsed.
    static func intervals(_ text: String) -> [(chrom: String, start: Int, end: Int, value: Double)] {
        text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: "\t")
            return (String(f[0]), Int(f[1])!, Int(f[2])!, Double(f[3])!)
        }
    }

    /// 100 bases with an N at 0-based position 50; windows of 20 every 5: starts 0...80 (17),
    /// of which 35, 40, 45 and 50 overlap the N. Each scored window's value is its first base's
    /// token over 6 (A 2, C 3, G 4, T 5), written on its central 5 bases [s + 7, s + 12).
    @Test func windowsOverNAreSkippedAndTheRestWrittenInOrder() throws {
        var bases = Array(String(repeating: "ACGTTGCA", count: 13).utf8.prefix(100))
        bases[50] = UInt8(ascii: "N")
        let sequence = String(decoding: bases, as: UTF8.self)
        // Lower-case input (soft-masked genomes) reads as upper case.
        let genome = Self.write(">chrT some description\n\(sequence.prefix(60).lowercased())\n\(sequence.dropFirst(60))\n")
        let out = Self.out()
        let classifier = FirstTokenClassifier(vocabularySize: 6)
        var options = GenomeScan.Options()
        options.window = 20; options.step = 5; options.top = 3; options.batch = 4
        options.plot = "chrT:1-100"
        let summary = try GenomeScan.run(genome: genome, classifier: classifier, encoder: Self.encoder(),
                                         options: options, outDirectory: out, log: { _ in })
        #expect(summary.windows == 13 && summary.windowsSkippedNonACGT == 4 && summary.records == 1 && summary.bases == 100)
        #expect(classifier.calls.map(\.count) == [4, 4, 4, 1], "batches of 4 windows")
        let text = try String(contentsOfFile: out + "/scan.bedGraph", encoding: .utf8)
        #expect(text.hasPrefix("track type=bedGraph "))
        let rows = Self.intervals(text)
        let starts = stride(from: 0, through: 80, by: 5).filter { !(35 ... 50).contains($0) }
        #expect(rows.map(\.start) == starts.map { $0 + 7 } && rows.allSatisfy { $0.end == $0.start + 5 && $0.chrom == "chrT" })
        let token: [UInt8: Double] = [UInt8(ascii: "A"): 2, UInt8(ascii: "C"): 3, UInt8(ascii: "G"): 4, UInt8(ascii: "T"): 5]
        for (row, s) in zip(rows, starts) {
            #expect(abs(row.value - token[bases[s]]! / 6) < 1e-4, "window \(s)")
        }
        for (a, b) in zip(rows, rows.dropFirst()) { #expect(a.end <= b.start, "sorted, not overlapping") }
        // top.bed: windows that start with T (5/6) come first; none overlaps another.
        let top = try String(contentsOfFile: out + "/top.bed", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: "\t").map(String.init) }
        #expect(top.count == 3 && top.allSatisfy { $0.count == 6 && $0[0] == "chrT" && Int($0[2])! - Int($0[1])! == 20 })
        let topStarts = top.map { Int($0[1])! }
        #expect(topStarts == topStarts.sorted())
        for (a, b) in zip(topStarts, topStarts.dropFirst()) { #expect(b - a >= 20, "top windows overlap") }
        #expect(top.contains { $0[3].hasPrefix("top1_p0.8333") && $0[4] == "833" && bases[Int($0[1])!] == UInt8(ascii: "T") })
        // The chart: the line breaks at the skipped windows (2 pieces), the 3 top windows marked.
        let svg = try String(contentsOfFile: out + "/scan.svg", encoding: .utf8)
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2 + 3 && svg.components(separatedBy: "<circle").count - 1 == 3)
        options.plot = "chrQ:1-100"
        #expect { try GenomeScan.run(genome: genome, classifier: classifier, encoder: Self.encoder(), options: options,
                                     outDirectory: Self.out(), log: { _ in }) }
        throws: { "\($0)".contains("chrQ:1-100 is not a region chr:start-end of a scanned record (records: chrT)") }
        let json = try JSONDecoder().decode(GenomeScan.Summary.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/scan.json")))
        #expect(json == summary)
    }

    /// Records are written in byte order of their names, a region header places its record, a
    /// record shorter than the window is counted, and two records of one name are refused.
    @Test func recordsAreSortedPlacedAndChecked() throws {
        let body = String(repeating: "ACGT", count: 10)
        let genome = Self.write(">chrB\n\(body)\n>chrA:1001-1040\n\(body)\n>short\nACGT\n")
        let out = Self.out()
        var options = GenomeScan.Options()
        options.window = 10; options.step = 10
        let summary = try GenomeScan.run(genome: genome, classifier: FirstTokenClassifier(vocabularySize: 6),
                                         encoder: Self.encoder(), options: options, outDirectory: out, log: { _ in })
        #expect(summary.recordsShorterThanWindow == 1 && summary.windows == 8)
        let rows = Self.intervals(try String(contentsOfFile: out + "/scan.bedGraph", encoding: .utf8))
        #expect(rows.map(\.chrom) == ["chrA", "chrA", "chrA", "chrA", "chrB", "chrB", "chrB", "chrB"])
        #expect(rows.prefix(4).map(\.start) == [1000, 1010, 1020, 1030] && rows.suffix(4).map(\.start) == [0, 10, 20, 30])

        let twice = Self.write(">chrA\n\(body)\n>chrA other\n\(body)\n")
        #expect { try GenomeScan.run(genome: twice, classifier: FirstTokenClassifier(vocabularySize: 6),
                                     encoder: Self.encoder(), options: options, outDirectory: Self.out(), log: { _ in }) }
        throws: { "\($0)".contains("both named chrA") && "\($0)".contains(twice) }
    }

    @Test func regionHeaders() {
        #expect(GenomeScan.region(header: "22:20000001-21000000", index: 0) == ("22", 20_000_000))
        #expect(GenomeScan.region(header: "chr1:1,001-2,000 assembly", index: 0) == ("chr1", 1000))
        #expect(GenomeScan.region(header: "chrUn:weird", index: 0) == ("chrUn:weird", 0))
        #expect(GenomeScan.region(header: "", index: 4) == ("record5", 0))
    }
}
