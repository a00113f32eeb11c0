import Testing
@testable import GenomicData

@Suite struct DatasetPreparationTests {
    let files = TestFiles()

    @Test func splitArithmeticOfTheReferenceStudy() {
        let promoters = SplitSizes(classSize: 19_787)
        let nonPromoters = SplitSizes(classSize: 27_038)
        #expect(promoters == SplitSizes(train: 15_137, valid: 1_681, test: 2_969))
        #expect(nonPromoters == SplitSizes(train: 20_684, valid: 2_298, test: 4_056))
        #expect(promoters + nonPromoters == SplitSizes(train: 35_821, valid: 3_979, test: 7_025))
    }

    @Test func filtersDeduplicatesPerClassAndSplitsReproducibly() throws {
        let positive = files.write("p.fa", ">a\nACGT\n>b\nacgt\n>c\nACNT\n>d\nCCCC\n>e\nGGGG\n")
        let negative = files.write("n.fa.gz", ">x\nACGT\n>y\nTTTT\n")
        var prep = DatasetPreparation()
        try prep.addFasta(path: positive, label: 1)
        try prep.addFasta(path: negative, label: 0)
        // "acgt" duplicates "ACGT" after upper-casing; the negative "ACGT" is another class.
        #expect(prep.sequencesByLabel[1] == ["ACGT".bytes, "CCCC".bytes, "GGGG".bytes])
        #expect(prep.sequencesByLabel[0] == ["ACGT".bytes, "TTTT".bytes])
        #expect(prep.skippedDuplicates == [1: 1])
        #expect(prep.skippedNonACGT == [1: 1, 0: 0])
        #expect(prep.report[0].hasSuffix("label 1: 3 kept, 1 duplicates dropped"))
        let a = prep.split(seed: 7)
        #expect(a == prep.split(seed: 7))
        // 3 sequences: train Int(2.295) = 2, valid Int(2.55) - 2 = 0, test 1.
        #expect(a[.train].count == 2 + 1)
        #expect(a[.valid].count == 0)
        #expect(a[.test].count == 1 + 1)
        let all = (a[.train].sequences + a[.test].sequences).sorted { $0.lexicographicallyPrecedes($1) }
        #expect(all == ["ACGT", "ACGT", "CCCC", "GGGG", "TTTT"].map(\.bytes))
    }

    @Test func splitFollowsTheKeyedShuffle() throws {
        var prep = DatasetPreparation()
        for i in 0..<20 { prep.add(String(repeating: "ACGT", count: i + 1).bytes, label: 0) }
        var random = CounterRandomFactory.split(seed: 3, label: 0)
        let order = SeededShuffle.permutation(count: 20, random: &random)
        let dataset = prep.split(seed: 3)
        // 20 -> train 15, valid Int(17.0) - 15 = 2, test 3, taken from the permutation in order.
        #expect(dataset[.train].sequences.map { $0.count / 4 - 1 } == Array(order[0..<15]))
        #expect(dataset[.valid].sequences.map { $0.count / 4 - 1 } == Array(order[15..<17]))
        #expect(dataset[.test].sequences.map { $0.count / 4 - 1 } == Array(order[17..<20]))
        #expect(Set(order) == Set(0..<20))
        #expect(prep.split(seed: 4) != dataset)
    }

    @Test func csvInputPlainAndGzip() throws {
        let text = "sequence,class\nACGT,1\nacgg,0\nANGT,1\nACGT,1\n\nTTTT,0\n"
        for name in ["d.csv", "d.csv.gz"] {
            var prep = DatasetPreparation()
            try prep.addCSV(path: files.write(name, text))
            #expect(prep.sequencesByLabel == [1: ["ACGT".bytes], 0: ["ACGG".bytes, "TTTT".bytes]])
            #expect(prep.skippedNonACGT == [1: 1])
            #expect(prep.skippedDuplicates == [1: 1])
            #expect(prep.report.last?.hasSuffix("5 rows; kept 1 (label 1), 2 (label 0); skipped non-ACGT 1 (label 1), duplicates 1 (label 1)") == true)
        }
    }

    @Test(arguments: [
        ("sequence,class\nACGT,1\nACGT\n", 3, nil as String?, "expected 2 comma-separated columns (as in the header), found 1"),
        ("sequence,class\nACGT,\n", 2, "class", "missing label"),
        ("sequence,class\nACGT,yes\n", 2, "class", "label 'yes' is not a non-negative integer"),
        ("sequence,class\nACGT,-1\n", 2, "class", "label '-1' is not a non-negative integer"),
        ("sequence,class\n,1\n", 2, "sequence", "empty sequence"),
        ("seq,class\nACGT,1\n", 1, "sequence", "header row must name a 'sequence' column; found 'seq', 'class'"),
    ])
    func badCSVNamesFileAndLine(text: String, line: Int, field: String?, message: String) {
        let path = files.write("bad.csv", text)
        var prep = DatasetPreparation()
        let error = dataError { try prep.addCSV(path: path) }
        #expect(error == DataError(file: path, line: line, field: field, message))
    }

    @Test func preparedFileRoundTripsAndIsWrittenAtomically() throws {
        var prep = DatasetPreparation()
        for (i, s) in ["ACGT", "CCGT", "GGTA", "TTAC", "ACAC", "GTGT", "CACA"].enumerated() {
            prep.add(s.bytes, label: Int32(i % 2))
        }
        let dataset = prep.split(seed: 1)
        let path = files.path("out/dataset.csv")
        try dataset.write(to: path)
        #expect(try PreparedDataset.load(path: path) == dataset)
        let leftovers = try FileManagerListing.names(in: files.path("out"))
        #expect(leftovers == ["dataset.csv"])
    }

    @Test(arguments: [
        ("sequence,label,split\nACGT,1,train\nACGT,1,training\n", 3, "split", "split 'training' is not one of train, valid, test"),
        ("sequence,label,split\nACGT,,test\n", 2, "label", "missing label"),
        ("sequence,label,split\nACNT,1,test\n", 2, "sequence", "sequence has characters other than upper-case A/C/G/T (was this file made by 'ulmfit prepare'?)"),
    ])
    func badPreparedFileNamesTheLine(text: String, line: Int, field: String, message: String) {
        let path = files.write("prepared.csv", text)
        let error = dataError { _ = try PreparedDataset.load(path: path) }
        #expect(error == DataError(file: path, line: line, field: field, message))
    }

    static let human = "human_promoters/cnnprom_human_nontata_9034.csv.gz"

    @Test(.enabled(if: SharedData.runnable(human), "needs ../shared/data/\(human)"))
    func humanNonTataSubsetCounts() throws {
        let path = try SharedData.required(Self.human)
        var prep = DatasetPreparation()
        try prep.addCSV(path: path)
        #expect(prep.sequencesByLabel[1]?.count == 4_914)
        #expect(prep.sequencesByLabel[0]?.count == 4_119)
        #expect(prep.skippedNonACGT == [1: 1])
        let (dataset, warnings) = try prep.prepare(seed: 42)
        #expect(warnings.isEmpty)
        #expect(dataset == prep.split(seed: 42))
        #expect(dataset[.train].count == 6_910)
        #expect(dataset[.valid].count == 767)
        #expect(dataset[.test].count == 1_356)
        #expect(dataset[.train].countsByLabel == [1: 3_759, 0: 3_151])
        #expect(dataset[.test].countsByLabel == [1: 738, 0: 618])
    }
}

import Foundation
import SeededRandom

enum CounterRandomFactory {
    static func split(seed: UInt64, label: UInt64) -> CounterRandom {
        CounterRandom(seed: seed, RandomPurpose.datasetSplit.rawValue, label)
    }
}

enum FileManagerListing {
    static func names(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }
}
