import ArgumentParser
import GenomicData
import OutputFiles

/// `ulmfit vocab`: counts k-mers in genomes or a prepared dataset and writes the vocabulary.
struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Build a k-mer vocabulary JSON from FASTA corpora or a prepared dataset.csv.",
        discussion: """
        FASTA inputs (plain or .gz) are split at non-ACGT runs; segments shorter than \
        --min-segment are skipped. For a prepared dataset.csv only the train split is counted, \
        so that validation and test data never shape the vocabulary.
        """)

    @Option(parsing: .unconditional, help: "k-mer size.", transform: IntegerOption.positive)
    var k: Int

    @Option(parsing: .unconditional, help: "Bases between k-mer starts.", transform: IntegerOption.positive)
    var stride: Int

    @Option(help: "Output vocabulary JSON file.")
    var out: String

    @Option(parsing: .unconditional, help: "Leave out k-mers seen fewer times.", transform: IntegerOption.positive)
    var minFrequency = 1

    @Option(parsing: .unconditional, help: "Most tokens, special tokens included.", transform: IntegerOption.positive)
    var maxSize: Int?

    @Option(parsing: .unconditional, help: "Shortest pure-ACGT FASTA segment counted.", transform: IntegerOption.positive)
    var minSegment = 1

    @Argument(help: "FASTA files or a prepared dataset.csv.")
    var inputs: [String]

    @OptionGroup var verbosity: VerbosityOptions

    func run() throws {
        var files = InputFiles()
        try files.add(inputs, role: "")
        try files.checkOutput(out, role: "--out")
        let tokenizer = try KmerTokenizer(k: k, stride: stride)
        var counter = try KmerCounter(tokenizer: tokenizer)
        for input in inputs {
            if input.hasSuffix(".csv") || input.hasSuffix(".csv.gz") {
                let train = try PreparedDataset.load(path: input)[.train]
                for sequence in train.sequences { counter.add(sequence) }
                print("\(input): \(train.count) train sequences counted")
            } else {
                let summary = try FastaReader(path: input, policy: .splitAtNonACGT(minLength: minSegment))
                    .forEachRecord { counter.add($0.sequence) }
                print(summary)
            }
        }
        var vocabulary = try counter.vocabulary(minFrequency: minFrequency, maxSize: maxSize)
        try vocabulary.save(to: out)
        print("\(counter.total) k-mers counted; \(vocabulary.count) tokens written to \(out)")
    }
}
