import Foundation
import Testing
import GenomicData
@testable import Pipeline

/// Fuzzing the FASTA, CSV and YAML readers with damaged copies of valid files: no input crashes
/// them, and every rejection is a named error — a `DataError` (or `RunConfigError`) naming the
/// file, and the line unless the problem is the file as a whole.
@Suite final class ReaderFuzzTests {
    static let cases = 1000

    let scratch = FuzzFolder(prefix: "fuzz")

    /// `bytes` gzip-compressed by the system's gzip (once per base file: damage to the compressed
    /// bytes is then a case of its own).
    func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let plain = try scratch.write("plain-\(UUID().uuidString)", bytes)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -n -c '\(plain)' > '\(plain).gz'"]
        try process.run()
        process.waitUntilExit()
        return Array(try Data(contentsOf: URL(fileURLWithPath: plain + ".gz")))
    }

    /// Runs `body`; a thrown error must be a `DataError` whose file is `path`, with a line unless
    /// its message starts with one of `wholeFile`.
    func expectNamed(_ path: String, _ what: String, wholeFile: [String], _ body: () throws -> Void) {
        do {
            try body()
        } catch let error as DataError {
            #expect(error.file == path, "\(what): \(error)")
            #expect(error.line != nil || wholeFile.contains(where: error.message.hasPrefix), "\(what): no line in \(error)")
        } catch {
            Issue.record("\(what): not a DataError: \(error)")
        }
    }

    /// Kept records hold upper-case A/C/G/T only.
    static func isACGT(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { "ACGT".utf8.contains($0) } }

    static let fasta = Array("""
        ; an old-style comment
        >chr1 first record
        ACGTACGTNNNNacgtacgtAACCGGTT\r
        GGCCTTAA\r

        >empty
        >chr2
        ttaaccggNACGT
        ACGTACGTACGTACGTACGTACGT
        >chr3 x
        ACGRYACGT

        """.utf8)

    @Test func fastaReader() throws {
        let mutator = ByteMutator(seed: 0xFA57A)
        let compressed = try gzip(Self.fasta)
        let wholeFile = ["file is empty", "no usable sequence"]
        for n in 0 ..< Self.cases {
            let gz = n % 4 == 3
            let (kind, bytes) = mutator.mutate(gz ? compressed : Self.fasta, case: n)
            let path = try scratch.write(gz ? "case.fa.gz" : "case.fa", bytes)
            let what = "FASTA case \(n) (\(kind)\(gz ? ", gzip" : ""))"
            switch n % 3 {
            case 0:
                expectNamed(path, what, wholeFile: wholeFile) {
                    try FastaReader(path: path, policy: .skipNonACGTRecords).forEachRecord { record in
                        #expect(Self.isACGT(record.sequence) && !record.sequence.isEmpty, "\(what)")
                    }
                }
            case 1:
                expectNamed(path, what, wholeFile: wholeFile) {
                    try FastaReader(path: path, policy: .splitAtNonACGT(minLength: 3)).forEachRecord { record in
                        #expect(Self.isACGT(record.sequence) && record.sequence.count >= 3, "\(what)")
                    }
                }
            default:
                var preparation = DatasetPreparation()
                expectNamed(path, what, wholeFile: wholeFile) { try preparation.addFasta(path: path, label: 1) }
            }
        }
    }

    /// pandas-style (unnamed index column), quoted and lower-case fields, a non-ACGT row, every
    /// split name; 24 rows, enough for a seeded split that passes the dataset checks.
    static let labelled: [UInt8] = {
        let splits = ["train", "train", "Train", "valid", "test", "validation"]
        var rows = [",sequence,label,split"]
        for i in 0 ..< 24 {
            let letters: [Character] = ["A", "C", "G", "T"]
            let digits: [Character] = [letters[i & 3], letters[(i >> 2) & 3], letters[(i >> 4) & 3]]
            var bases = String(digits) + "GATTACA"   // distinct: i in base 4
            if i == 5 { bases = "ACGTNACGTA" } else if i == 7 { bases = "\"\(bases.lowercased())\"" }
            rows.append("\(i),\(bases),\(i % 2),\(splits[i % 6])")
        }
        return Array((rows.joined(separator: "\n") + "\n").utf8)
    }()

    static let prepared = Array("sequence,label,split\nACGTACGTAC,1,train\nCCGTACGTAC,0,train\nGGGTACGTAC,1,valid\nTTGTACGTAC,0,test\n".utf8)

    @Test func csvReaders() throws {
        let mutator = ByteMutator(seed: 0xC5F)
        let compressed = try gzip(Self.labelled)
        // Whole-file problems: no header, no rows, and the dataset checks of `prepare`.
        let wholeFile = ["file is empty", "no data rows", "the ", "label ", "labels are "]
        for n in 0 ..< Self.cases {
            let gz = n % 4 == 3
            let usePrepared = n % 3 == 2
            let base = usePrepared ? Self.prepared : gz ? compressed : Self.labelled
            let (kind, bytes) = mutator.mutate(base, case: n)
            let path = try scratch.write(gz && !usePrepared ? "case.csv.gz" : "case.csv", bytes)
            let what = "CSV case \(n) (\(kind)\(gz && !usePrepared ? ", gzip" : ""))"
            switch n % 3 {
            case 0:
                var preparation = DatasetPreparation()
                expectNamed(path, what, wholeFile: wholeFile) {
                    try preparation.addCSV(path: path)
                    _ = try preparation.prepare(seed: 1)
                }
            case 1:
                var preparation = DatasetPreparation()
                expectNamed(path, what, wholeFile: wholeFile) {
                    try preparation.addCSV(path: path, columns: CSVColumns(split: "split"))
                    _ = try preparation.prepare(seed: 1)
                }
            default:
                expectNamed(path, what, wholeFile: wholeFile) {
                    let dataset = try PreparedDataset.load(path: path)
                    try dataset.checkTrainable(file: path)
                }
            }
        }
    }

    /// The project's own configs, damaged: parse errors are `RunConfigError`s naming the file and,
    /// for everything but an empty file, the line.
    @Test func yamlRunConfig() throws {
        let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs")
        let bases = try FileManager.default.contentsOfDirectory(atPath: configs.path).filter { $0.hasSuffix(".yaml") }.sorted()
            .map { Array(try Data(contentsOf: configs.appendingPathComponent($0))) }
        try #require(!bases.isEmpty)
        let mutator = ByteMutator(seed: 0x9A31)
        for n in 0 ..< Self.cases {
            let (kind, bytes) = mutator.mutate(bases[n % bases.count], case: n)
            let what = "YAML case \(n) (\(kind))"
            do {
                _ = try RunConfig.parse(yaml: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
            } catch let error as RunConfigError {
                #expect(error.file == "fuzz.yaml", "\(what): \(error)")
                #expect(error.line != nil || error.message.hasPrefix("config file is empty"), "\(what): no line in \(error)")
            } catch {
                Issue.record("\(what): not a RunConfigError: \(error)")
            }
        }
    }
}
