import ArgumentParser
import Foundation

/// `ulmfit bench predict`: sequences/s of a classifier in use (`ClassifierInference`, every
/// worker on its own batches), and windows/s of a genome scan (see `PredictBench`).
struct BenchPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classifier inference: sequences/s, GFLOP/s, % of FMA peak; scan windows/s along a genome.",
        discussion: """
            Forward only (no dropout, BatchNorm running statistics), every worker on whole batches \\
            of --batch sequences. Sizes as in bench step (--preset, --emb/--hidden/--layers); the \\
            vocabulary is every 5-mer (1,026 ids). The scan cuts --windows windows of --window nt \\
            every --step nt from the ACGT stretches of --genome, encodes and classifies them.
            """)

    @OptionGroup var model: BenchModelOptions
    @OptionGroup var layout: LayoutOptions

    @Flag(help: "Do not pin the worker threads (the OS scheduler places them).")
    var noBind = false

    @Option(help: "Tokens per sequence (124: a 251-nt promoter at k = 5, stride 2).")
    var length = 124

    @Option(help: "Sequences per timed pass.")
    var sequences = 1024

    @Option(help: "Timed passes (after one untimed); the median gives sequences/s.")
    var repeats = 3

    @Option(help: "FASTA genome to scan (default: the human chr22 chunk of ../shared/data when present).")
    var genome: String?

    @Option(help: "Scan window, nt.")
    var window = 251

    @Option(help: "Scan step, nt.")
    var step = 10

    @Option(help: "Windows to scan.")
    var windows = 2048

    @Flag(help: "Skip the scan.")
    var noScan = false

    @Flag(help: "Print one JSON line (keys of benchmarks/pytorch_reference.py --task predict --json).")
    var json = false

    @Option(help: "Also write the JSON record (pretty-printed) to this path.")
    var save: String?

    @OptionGroup var verbosity: VerbosityOptions

    static let defaultGenome = "../shared/data/genomes/human_chr22_20-21M.fa.gz"

    func validate() throws {
        for (name, value) in [("--length", length), ("--sequences", sequences), ("--repeats", repeats),
                              ("--window", window), ("--step", step), ("--windows", windows)] where value < 1 {
            throw ValidationError("\(name) must be >= 1 (got \(value))")
        }
        if window < 5 { throw ValidationError("--window must hold one 5-mer (got \(window))") }
    }

    func run() throws {
        let settings = try model.settings(layout: layout)
        let config = try model.modelConfig(settings)
        let batch = settings.languageModelTrainerOptions.batchSize
        var scan: (genome: String, window: Int, step: Int, windows: Int)?
        if !noScan {
            let path = genome ?? Self.defaultGenome
            if genome != nil || FileManager.default.fileExists(atPath: path) {
                scan = (path, window, step, windows)
            } else if !json {
                print("(no scan: \(path) is absent; give --genome FILE)")
            }
        }
        let record = try PredictBench.measure(emb: config.embeddingSize, hidden: config.hiddenSize, layers: config.layerCount,
                                              batch: batch, length: length, sequences: sequences, repeats: repeats,
                                              scan: scan, spec: settings.layout.spec, bind: !noBind,
                                              progress: !json && !verbosity.quiet)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        print(json ? String(decoding: try encoder.encode(record), as: UTF8.self) : record.text)
        if let save {
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try BenchSupport.writeText(String(decoding: try encoder.encode(record), as: UTF8.self) + "\n", to: save)
        }
    }
}
