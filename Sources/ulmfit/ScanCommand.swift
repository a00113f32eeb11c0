import ArgumentParser
import Foundation
import GenomicData
import Kernels
import OutputFiles
import Pipeline

/// `ulmfit scan`: a promoter-probability track along long sequences.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Slide a trained promoter classifier along long sequences (chromosomes) into a bedGraph track.",
        discussion: """
            Scores windows of --window bases every --step bases with the classifier's probability of class \
            1 (promoter), on every worker. Writes OUT/scan.bedGraph (a track header, then chrom, start, end, \
            probability: 0-based half-open, each window's score on its central --step bases, sorted; IGV and \
            the UCSC browser load it), OUT/top.bed (the --top best non-overlapping windows, BED6) and \
            OUT/scan.json (counts, seconds, windows/s). Windows overlapping N (any symbol other than A/C/G/T) \
            are skipped and counted. A header chr:start-end (1-based) places the record on chr at start.
            """)

    @Option(help: "Classifier: a train-classifier run folder or one of its checkpoints.") var model: String
    @Option(parsing: .unconditional, help: "Window length in bases (the classifier's training length, e.g. 251 for the human promoters).",
            transform: IntegerOption.positive)
    var window = 251
    @Option(parsing: .unconditional, help: "Bases between window starts.", transform: IntegerOption.positive) var step = 10
    @Option(parsing: .unconditional, help: "Best non-overlapping windows written to top.bed.", transform: IntegerOption.nonNegative)
    var top = 100
    @Option(parsing: .unconditional, help: "Windows per batch.", transform: IntegerOption.positive) var batch = 256
    @Option(help: "Also draw this region (chr:start-end, 1-based) of the track into OUT/scan.svg.") var plot: String?
    @Option(help: "Results folder.") var out: String
    @Argument(help: "Genome FASTA (plain or .gz), one record per chromosome or region.") var genome: String
    @Flag(help: "Replace the results of an earlier scan in --out (without it, such a folder is refused).")
    var overwrite = false

    @OptionGroup var layout: LayoutOptions
    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        if window < 1 || step < 1 || batch < 1 || top < 0 {
            throw ValidationError("--window, --step and --batch must be positive, --top non-negative")
        }
    }

    func run() throws {
        let logger = verbosity.logger
        var files = InputFiles()
        try files.add(genome, role: "the genome")
        files.addCheckpoints(of: model, role: "--model")
        try files.checkOutputs(in: out, GenomeScan.outputFiles, role: "--out")
        // The output is checked before the model is loaded and the genome scored.
        try GenomeScan.checkOutput(out, plot: plot)
        let earlier = GenomeScan.outputFiles.filter { FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent($0)) }
        if !overwrite, !earlier.isEmpty {
            throw FileConflictError("--out \(out) holds an earlier scan (\(earlier.joined(separator: ", "))): choose another "
                + "folder, or pass --overwrite to replace it")
        }
        let pool = try RunConfig.resolve(file: nil, overrides: layout.overrides.compactMap { $0 }).makeWorkerPool()
        configureBLASForWorkers()
        let checkpoint = try ClassifierCheckpoint.load(from: model, role: "--model")
        logger.info("--model: \(checkpoint.model.resolution)")
        let encoder = try KmerEncoder(vocabulary: checkpoint.vocabulary())
        var options = GenomeScan.Options()
        options.window = window
        options.step = step
        options.top = top
        options.batch = batch
        options.plot = plot
        let tokens = encoder.tokenizer.tokenCount(sequenceLength: window)
        try MemoryEstimate.inference(parameters: checkpoint.parameters, batch: batch, maxLength: tokens, workers: pool.workerCount)
            .check(lower: "--batch (\(batch)) or --window (\(window) bases, \(tokens) tokens)")
        let classifier = try checkpoint.sequenceClassifier(pool: pool, maxLength: tokens, batchSize: batch)
        let s = try GenomeScan.run(genome: genome, classifier: classifier, encoder: encoder, options: options,
                                   outDirectory: out, log: { logger.info("\($0)") }, warn: { logger.warning("\($0)") })
        if plot == nil {   // a chart of an earlier scan (--overwrite) would not belong to this track
            try? FileManager.default.removeItem(atPath: (out as NSString).appendingPathComponent("scan.svg"))
        }
        print("\(s.records) records, \(s.bases) bases: \(s.windows) windows scored, \(s.windowsSkippedNonACGT) skipped "
              + "(overlapping N or another symbol), \(s.recordsShorterThanWindow) records shorter than the window; "
              + String(format: "%.1f s, %.0f windows/s on %d workers", s.seconds, s.windowsPerSecond, pool.workerCount))
        print("wrote \(out)/scan.bedGraph, \(out)/top.bed, \(out)/scan.json" + (plot == nil ? "" : ", \(out)/scan.svg"))
    }
}
