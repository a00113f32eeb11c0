import Foundation
import Testing
@testable import GenomicData

@Suite struct VocabularyTests {
    let files = TestFiles()

    @Test func frequencyOrderWithLexicographicTies() throws {
        let vocab = try Vocabulary.build(counts: ["CCC": 2, "AAA": 5, "GGG": 2, "ACG": 2, "TTT": 1],
                                         k: 3, stride: 1)
        #expect(vocab.tokens == ["xxpad", "xxunk", "AAA", "ACG", "CCC", "GGG", "TTT"])
        #expect(vocab.id(of: "AAA") == 2)
        #expect(vocab.id(of: "TTT") == 6)
        #expect(vocab.token(of: 3) == "ACG")
    }

    @Test func minFrequencyAndMaxSize() throws {
        let counts = ["CCC": 2, "AAA": 5, "GGG": 2, "ACG": 2, "TTT": 1]
        #expect(try Vocabulary.build(counts: counts, k: 3, stride: 1, minFrequency: 2).tokens
                == ["xxpad", "xxunk", "AAA", "ACG", "CCC", "GGG"])
        #expect(try Vocabulary.build(counts: counts, k: 3, stride: 1, maxSize: 4).tokens
                == ["xxpad", "xxunk", "AAA", "ACG"])
    }

    @Test func unseenKmerIsUnknownNotPadding() throws {
        let vocab = try Vocabulary(kmers: ["ACG"], k: 3, stride: 1)
        #expect(vocab.id(of: "TTT") == Vocabulary.unknownID)
        #expect(Vocabulary.unknownID == 1 && Vocabulary.paddingID == 0)
        #expect(vocab.ids(of: ["ACG", "TTT", "ANC"]) == [2, 1, 1])
    }

    @Test func encoderMatchesStringPath() throws {
        let sequence = "ATCGCGTACGATCCGNACGTTAGC".bytes
        for (k, stride) in [(3, 1), (4, 2), (5, 5), (13, 1), (3, 4)] {
            let tokenizer = try KmerTokenizer(k: k, stride: stride)
            var counter = try KmerCounter(tokenizer: tokenizer)
            counter.add(Array(sequence.prefix(14)))   // some k-mers stay unknown (at least one is known: k <= 14)
            let vocab = try counter.vocabulary()
            let encoder = try KmerEncoder(vocabulary: vocab)
            let expected = vocab.ids(of: tokenizer.tokens(sequence))
            #expect(encoder.encode(sequence) == expected, "k=\(k) stride=\(stride)")
            #expect(expected.contains(Vocabulary.unknownID), "k=\(k) stride=\(stride)")
        }
    }

    @Test func counterCountsByStringAndSkipsN() throws {
        var counter = try KmerCounter(tokenizer: KmerTokenizer(k: 2, stride: 1))
        counter.add("ACACNAC".bytes)
        #expect(counter.counts == ["AC": 3, "CA": 1])
        #expect(counter.total == 4)
        #expect(counter.skippedNonACGT == 2)
    }

    @Test func saveAndLoadRoundTrip() throws {
        var vocab = try Vocabulary(kmers: ["ACGT", "TTTT"], k: 4, stride: 2)
        let path = files.path("vocab.json")
        try vocab.save(to: path)
        let loaded = try Vocabulary.load(from: path)
        #expect(loaded == vocab)
        #expect(loaded.source == path)
        #expect(loaded.count == 4)
        try loaded.validate(expectedSize: 4, k: 4, stride: 2)
    }

    @Test func validateNamesFileAndField() throws {
        var vocab = try Vocabulary(kmers: ["ACGT", "TTTT"], k: 4, stride: 2)
        let path = files.path("v.json")
        try vocab.save(to: path)
        let loaded = try Vocabulary.load(from: path)
        let size = dataError { try loaded.validate(expectedSize: 1030, k: 4, stride: 2) }
        #expect(size?.description == "\(path) (field 'tokens'): vocabulary has 4 tokens, but the model expects 1030")
        let k = dataError { try loaded.validate(expectedSize: 4, k: 5, stride: 2) }
        #expect(k?.description == "\(path) (field 'k'): vocabulary was built with k=4, but k=5 is used")
        let stride = dataError { try loaded.validate(expectedSize: 4, k: 4, stride: 1) }
        #expect(stride?.field == "stride")
        #expect(stride?.file == path)
    }

    @Test(arguments: [
        (#"{"format":"genomic-ulmfit-vocabulary","version":1,"stride":1,"tokens":["xxpad","xxunk"]}"#, "k", "missing"),
        (#"{"format":"genomic-ulmfit-vocabulary","version":1,"k":"3","stride":1,"tokens":["xxpad","xxunk"]}"#, "k", "expected an integer"),
        (#"{"format":"genomic-ulmfit-vocabulary","version":1,"k":0,"stride":1,"tokens":["xxpad","xxunk"]}"#, "k", "k-mer size must be >= 1, got 0"),
        (#"{"format":"genomic-ulmfit-vocabulary","version":1,"k":3,"stride":1,"tokens":["xxunk","xxpad"]}"#, "tokens", "token 0 must be 'xxpad', found 'xxunk'"),
        (#"{"format":"genomic-ulmfit-vocabulary","version":1,"k":3,"stride":1,"tokens":["xxpad","xxunk","ACGT"]}"#, "tokens", "token 2 'ACGT' is not an upper-case A/C/G/T k-mer of length 3"),
        (#"{"format":"genomic-ulmfit-vocabulary","version":1,"k":3,"stride":1,"tokens":["xxpad","xxunk","ACG","ACG"]}"#, "tokens", "token 3 'ACG' appears twice"),
        (#"{"format":"other","version":1,"k":3,"stride":1,"tokens":[]}"#, "format", "expected 'genomic-ulmfit-vocabulary', found 'other'"),
        (#"{"format":"genomic-ulmfit-vocabulary","version":1,"k":3,"stride":1,"tokens":"ACG"}"#, "tokens", "expected an array of strings"),
    ])
    func badFileNamesTheField(json: String, field: String, message: String) {
        let path = files.write("bad.json", json)
        let error = dataError { _ = try Vocabulary.load(from: path) }
        #expect(error == DataError(file: path, field: field, message))
    }

    static let humanChunk = "genomes/human_chr22_20-21M.fa.gz"

    @Test(.enabled(if: SharedData.runnable(humanChunk), "needs ../shared/data/\(humanChunk)"))
    func k5GenomeVocabularyHasAllKmers() throws {
        let path = try SharedData.required(Self.humanChunk)
        var counter = try KmerCounter(tokenizer: KmerTokenizer(k: 5, stride: 2))
        var segments = 0
        try FastaReader(path: path, policy: .splitAtNonACGT(minLength: 1000)).forEachRecord { segment in
            if segments < 20 { counter.add(segment.sequence) }   // a slice is plenty
            segments += 1
        }
        let vocab = try counter.vocabulary()
        #expect(vocab.count == 1024 + 2)
        #expect(counter.skippedNonACGT == 0)
    }
}

extension VocabularyTests {
    /// Errors about a vocabulary the user gave name that file, even after a copy is saved into a run folder.
    @Test func savingACopyKeepsTheSourceTheUserGave() throws {
        var built = try Vocabulary(kmers: ["ACG"], k: 3, stride: 1)
        let first = files.path("first.json"), copy = files.path("copy.json")
        try built.save(to: first)
        #expect(built.source == first)
        var loaded = try Vocabulary.load(from: first)
        try loaded.save(to: copy)
        #expect(loaded.source == first)
    }
}
