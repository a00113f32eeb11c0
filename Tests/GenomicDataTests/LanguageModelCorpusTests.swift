import Testing
@testable import GenomicData

/// The fine-tuning corpus of a prepared dataset: which splits train the language model and
/// which validate it.
@Suite struct LanguageModelCorpusTests {
    let files = TestFiles()

    /// 300 train, 40 valid and 60 test sequences of 12 bases, all distinct.
    func datasetPath() throws -> String {
        let dataset = DegenerateDataTests.dataset([.train: [(0, 150), (1, 150)], .valid: [(0, 20), (1, 20)],
                                                   .test: [(0, 30), (1, 30)]])
        var long = PreparedDataset()
        for (split, part) in dataset.splits {
            // 6-mers doubled to 12 bases: 5 tokens each with k = 4, stride 2.
            long.splits[split] = LabeledSequences(sequences: part.sequences.map { $0 + $0 }, labels: part.labels)
        }
        let path = files.path("dataset.csv")
        try long.write(to: path)
        return path
    }

    func encoder() throws -> KmerEncoder {
        let kmers = (0 ..< 256).map { n in String((0 ..< 4).map { i in Array("ACGT")[(n >> (2 * i)) & 3] }) }
        return try KmerEncoder(vocabulary: Vocabulary(kmers: kmers, k: 4, stride: 2))
    }

    @Test func trainOnlyTrainsOnTrainAndValidatesOnValid() throws {
        let corpus = try LanguageModelCorpus.fromPreparedDataset(path: datasetPath(), encoder: encoder())
        #expect(corpus.train.count == 300 && corpus.valid.count == 40)
    }

    /// Every train and valid sequence is used exactly once, none of test (it stays unseen until
    /// the classifier's final evaluation); about validFraction
    /// held out (binomial(340, 0.1): 34 +- 5.5, so 15...55 is > 3.4 standard deviations); the
    /// same seed draws the same split, another seed another.
    @Test func trainAndValidTrainTogetherWithAHeldOutFraction() throws {
        let path = try datasetPath(), encoder = try encoder()
        let dataset = try PreparedDataset.load(path: path)
        let corpus = try LanguageModelCorpus.fromPreparedDataset(path: path, encoder: encoder, splits: .trainAndValid,
                                                                 validFraction: 0.1, seed: 7)
        let used = (corpus.train + corpus.valid).sorted { $0.lexicographicallyPrecedes($1) }
        let expected = (dataset[.train].sequences + dataset[.valid].sequences).map(encoder.encode)
            .sorted { $0.lexicographicallyPrecedes($1) }
        #expect(used == expected)
        let test = Set(dataset[.test].sequences.map(encoder.encode))
        #expect(!(corpus.train + corpus.valid).contains { test.contains($0) })
        #expect((15 ... 55).contains(corpus.valid.count), "\(corpus.valid.count) held out of 340")
        let again = try LanguageModelCorpus.fromPreparedDataset(path: path, encoder: encoder, splits: .trainAndValid,
                                                                validFraction: 0.1, seed: 7)
        #expect(again.valid == corpus.valid && again.train == corpus.train)
        let other = try LanguageModelCorpus.fromPreparedDataset(path: path, encoder: encoder, splits: .trainAndValid,
                                                                validFraction: 0.1, seed: 8)
        #expect(other.valid != corpus.valid)
    }
}
