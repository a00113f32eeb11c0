import ArgumentParser
import Foundation
import GenomicData
import OutputFiles

/// `ulmfit prepare`: builds the train/valid/test split of a promoter classification set.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Filter, de-duplicate and split a classification set into DIR/dataset.csv.",
        discussion: """
        Input is FASTA files (--positive gets label 1, --negative label 0) and/or labelled CSVs \
        (plain or .gz); repeat an option for several files: all of them are read. Sequences are \
        upper-cased; any with a character other than A/C/G/T is dropped, as are duplicates within \
        a class. Each class is shuffled with the seed and split 85% train+valid (of which 90% \
        train) / 15% test, unless --split-column names each row's split: then the rows keep it \
        (with no valid rows, 10% of each class's train rows become valid). A dataset that cannot \
        train a classifier (an empty split, one class, a label missing from train) is an error.
        """)

    @Option(help: "FASTA file of positive sequences (label 1); repeat for several files.")
    var positive: [String] = []

    @Option(help: "FASTA file of negative sequences (label 0); repeat for several files.")
    var negative: [String] = []

    @Option(help: "CSV with a header row, columns 'sequence' and 'class' (or 'label'); repeat for several files.")
    var csv: [String] = []

    @Option(help: "The CSVs' sequence column (default: sequence).")
    var sequenceColumn: String?

    @Option(help: "The CSVs' label column, non-negative integers (default: class, else label).")
    var labelColumn: String?

    @Option(help: "A CSV column of train/valid/test that fixes each row's split (e.g. split), to reproduce a published split.")
    var splitColumn: String?

    @Option(help: "Seed of the split.")
    var seed: UInt64

    @Option(help: "Output folder (dataset.csv is written there).")
    var out: String

    @Flag(help: "Replace the dataset.csv already in --out (without it, such a folder is refused).")
    var overwrite = false

    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        let inputs = positive + negative + csv
        if inputs.isEmpty { throw ValidationError("give --positive P.fa --negative N.fa, or --csv FILE") }
        if csv.isEmpty && (positive.isEmpty || negative.isEmpty) {
            throw ValidationError("--positive and --negative go together (or add a --csv with both classes)")
        }
        // The same spelling twice is refused here; the same file under two names in run() (InputFiles).
        if let twice = inputs.first(where: { path in inputs.filter { $0 == path }.count > 1 }) {
            throw ValidationError("\(twice) is given twice")
        }
        if csv.isEmpty, sequenceColumn != nil || labelColumn != nil || splitColumn != nil {
            throw ValidationError("--sequence-column, --label-column and --split-column are for --csv inputs")
        }
        if splitColumn != nil, !(positive + negative).isEmpty {
            throw ValidationError("--split-column: FASTA inputs have no split column; give every input as --csv")
        }
    }

    func run() throws {
        // Every input identified (a file given twice, under any name, is refused) and the output
        // checked against them before anything is read.
        var files = InputFiles()
        try files.add(positive, role: "--positive")
        try files.add(negative, role: "--negative")
        try files.add(csv, role: "--csv")
        try files.checkOutputs(in: out, ["dataset.csv"], role: "--out")
        // The output checked before any input is read: a place that cannot be written, and an
        // earlier dataset that would be replaced without a word.
        try OutputFile.checkCanCreateDirectory(out, wanted: "the dataset's folder (--out)")
        let path = out.hasSuffix("/") ? out + "dataset.csv" : out + "/dataset.csv"
        if !overwrite, FileManager.default.fileExists(atPath: path) {
            throw FileConflictError("--out \(out) holds a prepared dataset (dataset.csv): choose another folder, or pass "
                + "--overwrite to replace it")
        }
        var preparation = DatasetPreparation()
        for path in positive { try preparation.addFasta(path: path, label: 1) }
        for path in negative { try preparation.addFasta(path: path, label: 0) }
        let columns = CSVColumns(sequence: sequenceColumn, label: labelColumn, split: splitColumn)
        for path in csv { try preparation.addCSV(path: path, columns: columns) }
        let (dataset, warnings) = try preparation.prepare(seed: seed)
        try dataset.write(to: path)
        print(preparation.summary(of: dataset))
        for split in DatasetSplit.allCases {
            let counts = dataset[split].countsByLabel.sorted { $0.key > $1.key }
                .map { "label \($0.key): \($0.value)" }.joined(separator: ", ")
            print("\(split.rawValue): \(dataset[split].count) (\(counts))")
        }
        // Standard error, so that they stand out from the summary.
        for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        print("wrote \(path)")
    }
}
