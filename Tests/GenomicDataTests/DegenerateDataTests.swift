import Testing
@testable import GenomicData

/// Data that would train to numbers that mean nothing is refused, saying what was found.
@Suite struct DegenerateDataTests {
    let files = TestFiles()

    /// `counts[split]` = (label, how many) pairs; sequences are distinct 6-mers.
    static func dataset(_ counts: [DatasetSplit: [(Int32, Int)]]) -> PreparedDataset {
        var dataset = PreparedDataset()
        var n = 0
        for split in DatasetSplit.allCases {
            for (label, count) in counts[split] ?? [] {
                for _ in 0 ..< count {
                    let bases = (0 ..< 6).map { i in Array("ACGT".utf8)[(n >> (2 * i)) & 3] }
                    dataset.splits[split, default: LabeledSequences()].append(bases, label: label)
                    n += 1
                }
            }
        }
        return dataset
    }

    @Test func aBalancedDatasetPassesWithoutWarnings() throws {
        let dataset = Self.dataset([.train: [(0, 5), (1, 5)], .valid: [(0, 1), (1, 1)], .test: [(0, 1), (1, 2)]])
        #expect(try dataset.checkTrainable(file: "d.csv").isEmpty)
    }

    @Test func oneClassOnlyIsAnError() {
        let dataset = Self.dataset([.train: [(1, 5)], .valid: [(1, 1)], .test: [(1, 1)]])
        let error = dataError { try dataset.checkTrainable(file: "d.csv") }
        #expect(error == DataError(file: "d.csv", "the train split holds only label 1 (5 sequences): a classifier "
                                   + "needs at least two classes (was one input empty?)"))
    }

    @Test func aStrayLabelOnlyInTestIsAnError() {
        let dataset = Self.dataset([.train: [(0, 5), (1, 5)], .valid: [(0, 1), (1, 1)], .test: [(0, 1), (1, 1), (2, 1)]])
        let error = dataError { try dataset.checkTrainable(file: "d.csv") }
        #expect(error == DataError(file: "d.csv", "label 2 has no train sequences (1 in test): the model could never "
                                   + "learn it (a stray label?)"))
    }

    @Test func aGapInTheLabelsIsAnError() {
        let dataset = Self.dataset([.train: [(0, 5), (2, 5)], .valid: [(0, 1), (2, 1)], .test: [(0, 1), (2, 1)]])
        let error = dataError { try dataset.checkTrainable(file: "d.csv") }
        #expect(error?.message == "labels are 0, 2 but label 1 has no sequences: labels must be numbered 0..<classes without gaps")
    }

    @Test(arguments: [DatasetSplit.train, .valid, .test])
    func anEmptySplitIsAnError(empty: DatasetSplit) {
        var counts: [DatasetSplit: [(Int32, Int)]] = [.train: [(0, 2), (1, 2)], .valid: [(0, 1), (1, 1)], .test: [(0, 1), (1, 1)]]
        counts[empty] = []
        let error = dataError { try Self.dataset(counts).checkTrainable(file: "d.csv") }
        #expect(error?.file == "d.csv")
        #expect(error?.message.hasPrefix("the \(empty.rawValue) split is empty (train ") == true, "\(String(describing: error))")
    }

    @Test func aClassMissingFromValidIsAWarning() throws {
        let dataset = Self.dataset([.train: [(0, 5), (1, 5)], .valid: [(1, 1)], .test: [(0, 1), (1, 1)]])
        #expect(try dataset.checkTrainable(file: "d.csv")
                == ["label 0 has no sequences in the valid split (5 in train): its valid metrics will be missing"])
    }

    @Test func aVocabularyOfSpecialTokensOnlyIsRefused() throws {
        let json = #"{"format":"genomic-ulmfit-vocabulary","version":1,"k":3,"stride":1,"tokens":["xxpad","xxunk"]}"#
        let path = files.write("specials.json", json)
        let error = dataError { _ = try Vocabulary.load(from: path) }
        #expect(error == DataError(file: path, field: "tokens", "no k-mers, only xxpad and xxunk: every token would be xxunk"))
        #expect(dataError { _ = try Vocabulary(kmers: [], k: 3, stride: 1) }?.field == "tokens")
    }

    @Test func aVocabularyFromNothingIsRefused() throws {
        let none = dataError { _ = try Vocabulary.build(counts: [:], k: 5, stride: 1) }
        #expect(none == DataError(field: "k", "no k-mers to count: no sequence has 5 A/C/G/T bases in a row"))
        let rare = dataError { _ = try Vocabulary.build(counts: ["ACG": 1, "CCC": 2], k: 3, stride: 1, minFrequency: 3) }
        #expect(rare == DataError(field: "minFrequency", "none of the 2 k-mers is seen at least 3 times"))
    }

    /// A one-k-mer vocabulary on data it does not fit: most tokens unknown is an error naming
    /// the vocabulary file and the rate; a few unknown is a warning.
    @Test func mostTokensUnknownIsAnErrorNamingTheVocabularyAndRate() throws {
        var vocabulary = try Vocabulary(kmers: ["AAA"], k: 3, stride: 1)
        let path = files.path("one.json")
        try vocabulary.save(to: path)
        let encoder = try KmerEncoder(vocabulary: vocabulary)
        var rate = UnknownTokenRate()
        rate.count(encoder.encode("AAAACGTA".bytes))   // AAA AAA AAC AAG ... : 2 of 6 known
        #expect(rate.unknown == 4 && rate.total == 6)
        let error = dataError { _ = try rate.check(vocabulary: vocabulary, data: "d.csv") }
        #expect(error == DataError(file: path, field: "tokens",
                                   "vocabulary \(path) (3 tokens, k=3) maps 66.7% of the tokens of d.csv to xxunk (4 of 6): "
                                   + "it does not fit this data (k-mers counted on other data, too small a maximum size, "
                                   + "or only special tokens?)"))
        var few = UnknownTokenRate()
        few.count(encoder.encode(("AAAA" + String(repeating: "A", count: 14) + "C").bytes))   // 1 of 17 unknown
        #expect(try few.check(vocabulary: vocabulary, data: "d.csv")?.hasSuffix("maps 5.9% of the tokens of d.csv to xxunk (1 of 17)") == true)
        var none = UnknownTokenRate()
        none.count(encoder.encode("AAAAAA".bytes))
        #expect(try none.check(vocabulary: vocabulary, data: "d.csv") == nil)
    }

    @Test func languageModelCorpusRefusesAVocabularyThatDoesNotFit() throws {
        let dataset = Self.dataset([.train: [(0, 5), (1, 5)], .valid: [(0, 1), (1, 1)], .test: [(0, 1), (1, 1)]])
        let path = files.path("dataset.csv")
        try dataset.write(to: path)
        let encoder = try KmerEncoder(vocabulary: Vocabulary(kmers: ["TTT"], k: 3, stride: 1))   // the 6-mers are mostly A
        let error = dataError { _ = try LanguageModelCorpus.fromPreparedDataset(path: path, encoder: encoder) }
        #expect(error?.field == "tokens")
        #expect(error?.message.contains("of the tokens of \(path) to xxunk") == true, "\(String(describing: error))")
    }
}
