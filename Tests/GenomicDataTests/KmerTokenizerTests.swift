import Testing
@testable import GenomicData

@Suite struct KmerTokenizerTests {
    static let sequence = "ATCGCGTACGATCCG"

    @Test(arguments: [
        (4, 1, "ATCG TCGC CGCG GCGT CGTA GTAC TACG ACGA CGAT GATC ATCC TCCG"),
        (4, 2, "ATCG CGCG CGTA TACG CGAT ATCC"),
        (4, 3, "ATCG GCGT TACG GATC"),
        (4, 4, "ATCG CGTA CGAT"),
        (3, 3, "ATC GCG TAC GAT CCG"),
        (5, 5, "ATCGC GTACG ATCCG"),
    ])
    func referenceTokens(k: Int, stride: Int, expected: String) throws {
        let tokenizer = try KmerTokenizer(k: k, stride: stride)
        let tokens = tokenizer.tokens(Self.sequence)
        #expect(tokens.joined(separator: " ") == expected)
        #expect(tokenizer.tokenCount(sequenceLength: 15) == tokens.count)
        #expect(tokenizer.warning == nil)
    }

    @Test func lowercaseIsUppercased() throws {
        #expect(try KmerTokenizer(k: 4, stride: 4).tokens("atcgCGTAcgat") == ["ATCG", "CGTA", "CGAT"])
    }

    @Test func shorterThanKGivesNoTokens() throws {
        let tokenizer = try KmerTokenizer(k: 5, stride: 1)
        #expect(tokenizer.tokens("ACGT").isEmpty)
        #expect(tokenizer.tokenCount(sequenceLength: 4) == 0)
        #expect(tokenizer.tokenCount(sequenceLength: 5) == 1)
    }

    @Test func kBelowOneIsAnError() {
        let error = dataError { _ = try KmerTokenizer(k: 0, stride: 1) }
        #expect(error?.field == "k")
        #expect(error?.description == "field 'k': k-mer size must be >= 1, got 0")
    }

    @Test func strideBelowOneIsAnError() {
        let error = dataError { _ = try KmerTokenizer(k: 3, stride: 0) }
        #expect(error?.field == "stride")
        #expect(error?.description.contains("stride must be >= 1, got 0") == true)
    }

    @Test func strideAboveKWarns() throws {
        let tokenizer = try KmerTokenizer(k: 3, stride: 5)
        #expect(tokenizer.warning == "stride 5 > k 3: 2 base(s) between consecutive k-mers are never seen")
        #expect(tokenizer.tokens(Self.sequence) == ["ATC", "GTA", "ATC"])
    }
}

/// What `ulmfit tokenize` accepts as typed DNA.
@Suite struct DNATextTests {
    @Test func basesAreUpperCasedAndNIsAllowed() throws {
        #expect(try DNAText.bases("acgtNn", name: "sequence") == "ACGTNN".bytes)
    }

    @Test(arguments: [
        ("HELLOWORLD", "character 'H' at position 1 is not a DNA base (A, C, G, T or N)"),
        ("ACGU", "character 'U' at position 4 is not a DNA base (A, C, G, T or N)"),
        ("AC GT", "character ' ' at position 3 is not a DNA base (A, C, G, T or N)"),
        ("ACÄ", "character U+C4 at position 3 is not a DNA base (A, C, G, T or N)"),
        // "Ä" cut after its first UTF-8 byte arrives from the command line as U+FFFD.
        (String(decoding: [65, 0xC3], as: UTF8.self), "position 2 holds bytes that are not valid UTF-8, not a DNA base (A, C, G, T or N)"),
        ("", "empty sequence"),
    ])
    func otherCharactersAreRefusedWithTheirPosition(text: String, message: String) {
        let error = dataError { _ = try DNAText.bases(text, name: "sequence 2") }
        #expect(error == DataError(field: "sequence 2", message))
    }
}
