import ArgumentParser
import GenomicData

/// `ulmfit prepare`: builds the train/valid/test split of a promoter classification set.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Filter, de-duplicate and split a classification set into DIR/dataset.csv.",
        discussion: """
        Input is two FASTA files (--positive gets label 1, --negative label 0) or one \
        'sequence,class' CSV (plain or .gz). Sequences are upper-cased; any with a character \
        other than A/C/G/T is dropped, as are duplicates within a class. Each class is shuffled \
        with the seed and split 85% train+valid (of which 90% train) / 15% test.
        """)

    @Option(help: "FASTA file of positive sequences (label 1).")
    var positive: String?

    @Option(help: "FASTA file of negative sequences (label 0).")
    var negative: String?

    @Option(help: "CSV with columns 'sequence,class' and a header row.")
    var csv: String?

    @Option(help: "Seed of the split.")
    var seed: UInt64

    @Option(help: "Output folder (dataset.csv is written there).")
    var out: String

    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        switch (positive, negative, csv) {
        case (.some, .some, nil), (nil, nil, .some): return
        case (.some, nil, nil), (nil, .some, nil):
            throw ValidationError("--positive and --negative go together")
        default:
            throw ValidationError("give either --positive P.fa --negative N.fa, or --csv FILE")
        }
    }

    func run() throws {
        var preparation = DatasetPreparation()
        if let csv {
            try preparation.addCSV(path: csv)
        } else if let positive, let negative {
            try preparation.addFasta(path: positive, label: 1)
            try preparation.addFasta(path: negative, label: 0)
        }
        let dataset = preparation.split(seed: seed)
        let path = out.hasSuffix("/") ? out + "dataset.csv" : out + "/dataset.csv"
        try dataset.write(to: path)
        print(preparation.summary)
        for split in DatasetSplit.allCases {
            let counts = dataset[split].countsByLabel.sorted { $0.key > $1.key }
                .map { "label \($0.key): \($0.value)" }.joined(separator: ", ")
            print("\(split.rawValue): \(dataset[split].count) (\(counts))")
        }
        print("wrote \(path)")
    }
}
