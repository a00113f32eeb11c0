import Foundation
import Testing
import GenomicData
import Model
@testable import Pipeline

/// `ulmfit predict`: every record read, the invalid ones named with their reason, the others
/// classified in input order.
@Suite struct RecordPredictionTests {
    static func write(_ name: String, _ text: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("predict-\(UUID().uuidString)-\(name)").path
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// k = 2 so that a 1-base record is too short.
    static func encoder() throws -> KmerEncoder {
        let kmers = ["A", "C", "G", "T"].flatMap { a in ["A", "C", "G", "T"].map { a + $0 } }
        return try KmerEncoder(vocabulary: Vocabulary(kmers: kmers, k: 2, stride: 1))
    }

    static let fasta = """
        >good1 first
        ACGTAC
        GTAC
        >hasN
        ACGNNT
        >tiny
        A
        >empty
        >good2
        ttgcaa
        >toolong
        ACGTACGTACGTACGTACGTA

        """

    @Test func invalidRecordsAreListedAndTheOthersClassifiedInOrder() throws {
        let path = Self.write("in.fa", Self.fasta)
        let records = try SequenceInput.read(path: path)
        #expect(records.map(\.id) == ["good1", "hasN", "tiny", "empty", "good2", "toolong"])
        #expect(records[0].sequence == Array("ACGTACGTAC".utf8) && records[4].sequence == Array("TTGCAA".utf8))
        let classifier = FirstTokenClassifier(vocabularySize: 18)
        var rows: [RecordPrediction] = [], maxTokens = 0
        let invalid = try RecordPrediction.predict(
            records: records, encoder: Self.encoder(), maxBases: 20, onInvalid: .skip,
            makeClassifier: { maxTokens = $0; return classifier }, emit: { rows += $0 })
        #expect(rows.map(\.id) == ["good1", "good2"] && rows.map(\.length) == [10, 6])
        #expect(maxTokens == 9, "the longest valid record, 10 bases, is 9 2-mers")
        #expect(invalid.map(\.record.id) == ["hasN", "tiny", "empty", "toolong"])
        #expect(invalid.map(\.reason) == ["holds 'N' at base 4 (2 symbols other than A/C/G/T)", "1 bases, shorter than 2",
                                          "empty sequence", "21 bases, longer than 20"])
        #expect(invalid[0].description == "\(path) record 2 hasN: holds 'N' at base 4 (2 symbols other than A/C/G/T)")
        // Rows: probabilities of the stand-in (first 2-mer AC = id 3, TT = id 17, over 18), argmax.
        #expect(rows[0].probabilities == [1 - 3 / 18, 3 / 18] && rows[0].predicted == 0)
        #expect(rows[1].probabilities == [1 - 17 / 18, 17 / 18] && rows[1].predicted == 1)
        #expect(RecordPrediction.csvHeader(classCount: 2) == "id,length,p0,p1,predicted")
        #expect(rows[1].csvRow == "good2,6,\(String(format: "%.6g", Float(1) - 17 / 18)),\(String(format: "%.6g", Float(17) / 18)),1")
    }

    @Test func onInvalidErrorStopsBeforeAnyPrediction() throws {
        let path = Self.write("in.fa", Self.fasta)
        var emitted = 0
        #expect {
            _ = try RecordPrediction.predict(records: try SequenceInput.read(path: path), encoder: try Self.encoder(),
                                             maxBases: 20, onInvalid: .error,
                                             makeClassifier: { _ in FirstTokenClassifier(vocabularySize: 18) },
                                             emit: { emitted += $0.count })
        } throws: { "\($0)".contains("\(path) record 2") && "\($0)".contains("record hasN: holds 'N'") }
        #expect(emitted == 0)
    }

    /// CSV with an id column or file:line ids (a quoted field is unquoted), rows in order; ids
    /// with a comma or quote are quoted in the output (RFC 4180).
    @Test func csvRecordsWithAndWithoutAnIdColumn() throws {
        let path = Self.write("in.csv", "name,sequence,other\np1,ACGTTT,x\n\"p2\",GGGG,y\n")
        let named = try SequenceInput.read(path: path, idColumn: "name")
        #expect(named.map(\.id) == ["p1", "p2"] && named[1].location == "\(path):3")
        let unnamed = try SequenceInput.read(path: path)
        let file = (path as NSString).lastPathComponent
        #expect(unnamed.map(\.id) == ["\(file):2", "\(file):3"])
        #expect(RecordPrediction(id: "p,\"2\"", length: 4, probabilities: [0.5, 0.5], predicted: 0).csvRow
                == "\"p,\"\"2\"\"\",4,0.5,0.5,0")
        #expect(throws: DataError.self) { try SequenceInput.read(path: path, sequenceColumn: "seq") }
        #expect(try SequenceInput.format(of: Self.write("x.fa", "\n>a\nAC\n")) == .fasta)
        #expect(throws: DataError.self) { try SequenceInput.read(path: Self.write("empty.csv", "\n\n")) }
    }
}
