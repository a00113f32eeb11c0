import Testing
@testable import GenomicData

@Suite struct FastaReaderTests {
    let files = TestFiles()

    /// Multi-line records, lowercase, CRLF, blank lines, a header with no sequence.
    static let messy = ">seq1 first record\r\nACGTacgt\r\nGGCC\r\n\r\n>empty\n>seq2\n\nttaa\nCCGG\n\n"

    @Test(arguments: ["messy.fa", "messy.fa.gz"])
    func parsesMessyFile(name: String) throws {
        let path = files.write(name, Self.messy)
        let (records, summary) = try FastaReader(path: path, policy: .skipNonACGTRecords).readAll()
        #expect(records == [
            FastaRecord(header: "seq1 first record", sequence: "ACGTACGTGGCC".bytes),
            FastaRecord(header: "seq2", sequence: "TTAACCGG".bytes),
        ])
        #expect(summary.records == 3)
        #expect(summary.kept == 2)
        #expect(summary.keptBases == 20)
        #expect(summary.skippedEmpty == 1)
        #expect(summary.skippedNonACGT == 0)
        #expect(summary.description == "\(path): 3 records, 2 kept (20 bases), skipped: 1 empty, 0 non-ACGT records")
    }

    @Test func lastLineWithoutNewline() throws {
        let path = files.write("x.fa", ">a\nAC\nGT")
        let (records, _) = try FastaReader(path: path, policy: .skipNonACGTRecords).readAll()
        #expect(records.map(\.sequenceString) == ["ACGT"])
    }

    @Test func recordsLongerThanTheReadChunk() throws {
        // 60-column lines across many 4 MiB chunks would be slow to build; a tiny chunk size
        // exercises lines straddling chunk ends and a line longer than the buffer instead.
        let line = String(repeating: "ACGTTGCA", count: 40)   // 320 bases on one line
        let path = files.write("long.fa", ">a\n\(line)\n\(line.lowercased())\n>b\nAC\n")
        let reader = try LineReader(path: path, chunkSize: 16)
        var lines: [String] = []
        try reader.forEachLine { bytes, number in
            #expect(number == lines.count + 1)
            lines.append(String(decoding: bytes, as: UTF8.self))
        }
        #expect(lines == [">a", line, line.lowercased(), ">b", "AC"])
    }

    @Test func nonACGTRecordIsSkippedAndCounted() throws {
        let path = files.write("n.fa", ">good\nACGT\n>bad\nACNT\n>bad2\nAC-T\n>good2\nTTTT\n")
        let (records, summary) = try FastaReader(path: path, policy: .skipNonACGTRecords).readAll()
        #expect(records.map(\.header) == ["good", "good2"])
        #expect(summary.skippedNonACGT == 2)
        #expect(summary.description.contains("2 non-ACGT records"))
    }

    @Test func genomeRecordsSplitAtNonACGTRuns() throws {
        // Segments: ACGTAC (offset 0), GG (offset 9, too short), TTTTTA (offset 14 after N and
        // the line break), nnn removed, CCCC (offset 23).
        let path = files.write("g.fa.gz", ">chr\nACGTACNNN\nGGNNNTTTT\nTAnnnCCCC\n>gap\nNNNN\n")
        let (records, summary) = try FastaReader(path: path, policy: .splitAtNonACGT(minLength: 4)).readAll()
        #expect(records == [
            FastaRecord(header: "chr", sequence: "ACGTAC".bytes, offset: 0),
            FastaRecord(header: "chr", sequence: "TTTTTA".bytes, offset: 14),
            FastaRecord(header: "chr", sequence: "CCCC".bytes, offset: 23),
        ])
        #expect(summary.records == 2)
        #expect(summary.kept == 3)
        #expect(summary.keptBases == 16)
        #expect(summary.nonACGTBases == 3 + 3 + 3 + 4)
        #expect(summary.skippedShortSegments == 1)
        #expect(summary.shortSegmentBases == 2)
        #expect(summary.description.hasSuffix("short segments (2 bases)"))
    }

    @Test func missingFileNamesTheFile() {
        let path = files.path("absent.fa")
        let error = dataError { try FastaReader(path: path, policy: .skipNonACGTRecords).forEachRecord { _ in } }
        #expect(error?.file == path)
        #expect(error?.description == "\(path): cannot open file: No such file or directory")
    }

    @Test(arguments: ["empty.fa", "blank.fa"])
    func emptyFileIsAnError(name: String) {
        let path = files.write(name, name == "empty.fa" ? "" : "\n\r\n  \n")
        let error = dataError { try FastaReader(path: path, policy: .skipNonACGTRecords).forEachRecord { _ in } }
        #expect(error?.description == "\(path): file is empty (no FASTA records)")
    }

    @Test func sequenceBeforeHeaderNamesTheLine() {
        let path = files.write("nohead.fa", "\nACGT\n>a\nACGT\n")
        let error = dataError { try FastaReader(path: path, policy: .skipNonACGTRecords).forEachRecord { _ in } }
        #expect(error?.file == path)
        #expect(error?.line == 2)
        #expect(error?.description.hasPrefix("\(path):2: sequence data before the first '>' header") == true)
    }

    static let ecoliPromoters = "bacteria/Ecoli_prom.fa.gz"

    @Test(.enabled(if: SharedData.runnable(ecoliPromoters), "needs ../shared/data/\(ecoliPromoters)"))
    func realBacterialPromoters() throws {
        let path = try SharedData.required(Self.ecoliPromoters)
        let (records, summary) = try FastaReader(path: path, policy: .skipNonACGTRecords).readAll()
        #expect(summary.records == 839)
        #expect(records.count + summary.skippedNonACGT + summary.skippedEmpty == 839)
        #expect(records.allSatisfy { $0.sequence.count == 81 })
    }
}
