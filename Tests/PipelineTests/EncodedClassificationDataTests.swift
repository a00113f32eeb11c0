import Foundation
import Testing
import GenomicData
@testable import Pipeline

/// The classifier's data layer refuses degenerate data before anything trains.
@Suite struct EncodedClassificationDataTests {
    static func dataset(_ rows: [(String, Int32, DatasetSplit)]) -> PreparedDataset {
        var dataset = PreparedDataset()
        for (sequence, label, split) in rows {
            dataset.splits[split, default: LabeledSequences()].append(Array(sequence.utf8), label: label)
        }
        return dataset
    }

    static let good: [(String, Int32, DatasetSplit)] = [
        ("ACGTAC", 0, .train), ("AACCGG", 1, .train), ("ACGGTA", 0, .train), ("CCGGTT", 1, .train),
        ("ACGTTT", 0, .valid), ("TTGGCC", 1, .valid), ("ACTTGA", 0, .test), ("GGTTAA", 1, .test),
    ]

    static func encoder(_ kmers: [String] = ["A", "C", "G", "T"]) throws -> KmerEncoder {
        try KmerEncoder(vocabulary: Vocabulary(kmers: kmers, k: 1, stride: 1))
    }

    @Test func aGoodDatasetEncodes() throws {
        let data = try EncodedClassificationData(dataset: Self.dataset(Self.good), encoder: Self.encoder(), source: "d.csv")
        #expect(data.classCount == 2 && data.maxLength == 6 && data.warnings.isEmpty)
        #expect(data[.test].labels == [0, 1])
    }

    /// Issue 12: a stray label 2 in the test split made a 3-class model.
    @Test func aStrayLabelIsRefused() throws {
        let error = dataError { _ = try EncodedClassificationData(dataset: Self.dataset(Self.good + [("ACGTAA", 2, .test)]),
                                                                  encoder: Self.encoder(), source: "d.csv") }
        #expect(error?.file == "d.csv")
        #expect(error?.message.hasPrefix("label 2 has no train sequences (1 in test)") == true)
    }

    /// Issue 12: one class only trained to "accuracy 1.0000".
    @Test func oneClassIsRefused() throws {
        let error = dataError { _ = try EncodedClassificationData(dataset: Self.dataset(Self.good.filter { $0.1 == 1 }),
                                                                  encoder: Self.encoder(), source: "d.csv") }
        #expect(error?.message.hasPrefix("the train split holds only label 1") == true)
    }

    /// Issue 12: a split left empty passed.
    @Test func anEmptySplitIsRefused() throws {
        let error = dataError { _ = try EncodedClassificationData(dataset: Self.dataset(Self.good.filter { $0.2 != .valid }),
                                                                  encoder: Self.encoder(), source: "d.csv") }
        #expect(error?.message.hasPrefix("the valid split is empty") == true)
    }

    /// Issue 12: a vocabulary that maps (nearly) every token to xxunk trained anyway.
    @Test func aVocabularyThatMapsMostTokensToUnknownIsRefused() throws {
        var vocabulary = try Vocabulary(kmers: ["A"], k: 1, stride: 1)
        let path = FileManagerTemp.path("vocab.json")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try vocabulary.save(to: path)
        let error = dataError { _ = try EncodedClassificationData(dataset: Self.dataset(Self.good),
                                                                  encoder: KmerEncoder(vocabulary: vocabulary), source: "d.csv") }
        #expect(error?.file == path && error?.field == "tokens")
        #expect(error?.message.contains("of the tokens of d.csv to xxunk") == true, "\(String(describing: error))")
        // Scoring one split checks the rate too.
        let scoring = dataError { _ = try EncodedClassificationData.encode(Self.dataset(Self.good)[.test], split: .test,
                                                                           encoder: KmerEncoder(vocabulary: vocabulary),
                                                                           source: "d.csv") }
        #expect(scoring?.file == path)
    }

    /// Scoring one split needs no other split and no second class.
    @Test func scoringOneSplitSkipsTheTrainingChecks() throws {
        let part = Self.dataset(Self.good.filter { $0.2 == .test && $0.1 == 1 })[.test]
        let encoded = try EncodedClassificationData.encode(part, split: .test, encoder: Self.encoder(), source: "d.csv")
        #expect(encoded.labels == [1] && encoded.sequences == [[4, 4, 5, 5, 2, 2]])
    }
}

/// The error thrown by `body`, as a `DataError` (nil if none or another type).
func dataError(_ body: () throws -> Void) -> DataError? {
    do { try body() } catch let error as DataError { return error } catch { return nil }
    return nil
}

enum FileManagerTemp {
    /// A path in a fresh temporary folder.
    static func path(_ name: String) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ecd-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }
}
