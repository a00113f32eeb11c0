import ArgumentParser
import GenomicData
import Foundation

/// `ulmfit tokenize`: shows how a sequence is cut into k-mers (or their vocabulary ids).
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Split DNA sequences into k-mers (one line of space-separated tokens per sequence).",
        discussion: "Example: ulmfit tokenize --k 4 --stride 2 ATCGCGTACGATCCG")

    @Option(parsing: .unconditional, help: "k-mer size (default: the vocabulary's, else required).",
            transform: IntegerOption.positive)
    var k: Int?

    @Option(parsing: .unconditional, help: "Bases between k-mer starts (default: the vocabulary's, else 1).",
            transform: IntegerOption.positive)
    var stride: Int?

    @Flag(help: "Print vocabulary ids instead of k-mers (needs --vocab).")
    var ids = false

    @Option(help: "Vocabulary JSON file (from 'ulmfit vocab').")
    var vocab: String?

    @Argument(help: "DNA sequences: A, C, G, T and N, in either case.")
    var sequences: [String]

    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        if ids && vocab == nil { throw ValidationError("--ids needs --vocab FILE") }
        if vocab == nil && k == nil { throw ValidationError("give --k (or --vocab FILE)") }
    }

    func run() throws {
        let vocabulary = try vocab.map { try Vocabulary.load(from: $0) }
        let tokenizer = try KmerTokenizer(k: k ?? vocabulary!.k, stride: stride ?? vocabulary?.stride ?? 1)
        if let vocabulary {
            try vocabulary.validate(expectedSize: vocabulary.count, k: tokenizer.k, stride: tokenizer.stride)
        }
        if let warning = tokenizer.warning {
            // Standard error, so that standard output stays tokens only.
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        // Every argument is checked before anything is printed: a typo is an error, not k-mers.
        let checked = try sequences.enumerated().map { i, text in
            try DNAText.bases(text, name: sequences.count == 1 ? "sequence" : "sequence \(i + 1)")
        }
        for bases in checked {
            let tokens = tokenizer.tokens(bases)
            if ids, let vocabulary {
                print(vocabulary.ids(of: tokens).map(String.init).joined(separator: " "))
            } else {
                print(tokens.joined(separator: " "))
            }
        }
    }
}
