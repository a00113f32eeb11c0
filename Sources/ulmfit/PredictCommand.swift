import ArgumentParser
import Foundation
import GenomicData
import Kernels
import OutputFiles
import Pipeline

/// `ulmfit predict`: class probabilities of new sequences from a trained classifier.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify sequences (FASTA or CSV, plain or .gz) with a trained classifier.",
        discussion: """
            Writes one CSV row per record, in input order: id (FASTA: the header's first word; CSV: \
            --id-column, else file:line), length in bases, the probability of each class (p0, p1, ...), and \
            the predicted class. Records that cannot be classified (empty, a symbol other than A/C/G/T, \
            fewer than k bases, more than --max-length) are listed on standard error with the reason and \
            skipped (--on-invalid skip), or stop the command before anything is predicted (--on-invalid \
            error). Progress and the summary go to standard error, so standard output holds only the CSV.
            """)

    @Option(help: "Classifier: a train-classifier run folder or one of its checkpoints.") var model: String
    @Argument(help: "FASTA or CSV files (plain or .gz); CSVs need a header with the sequence column.") var files: [String]
    @Option(help: "Write the CSV to this file (atomically) instead of standard output.") var out: String?
    @Option(help: "What to do with a record that cannot be classified: skip (listed on standard error) or error.")
    var onInvalid: InvalidRecordPolicy = .skip
    @Option(help: "CSV column holding the sequence.") var sequenceColumn = "sequence"
    @Option(help: "CSV column holding the record id (default: file:line).") var idColumn: String?
    @Option(parsing: .unconditional, help: "Longest record classified, in bases (longer ones are invalid: see `ulmfit scan`).",
            transform: IntegerOption.positive) var maxLength = 10_000
    @Option(parsing: .unconditional, help: "Sequences per batch.", transform: IntegerOption.positive) var batch = 64

    @OptionGroup var layout: LayoutOptions
    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        if batch < 1 || maxLength < 1 { throw ValidationError("--batch and --max-length must be positive") }
    }

    func run() throws {
        let logger = verbosity.logger
        var inputs = InputFiles()
        try inputs.add(files, role: "")
        inputs.addCheckpoints(of: model, role: "--model")
        if let out { try inputs.checkOutput(out, role: "--out") }
        let pool = try RunConfig.resolve(file: nil, overrides: layout.overrides.compactMap { $0 }).makeWorkerPool()
        configureBLASForWorkers()
        let checkpoint = try ClassifierCheckpoint.load(from: model, role: "--model")
        let encoder = try KmerEncoder(vocabulary: checkpoint.vocabulary())
        logger.info("--model: \(checkpoint.model.resolution)")
        var records: [SequenceInput.Record] = []
        for file in files {
            records += try SequenceInput.read(path: file, sequenceColumn: sequenceColumn, idColumn: idColumn)
        }
        var text = RecordPrediction.csvHeader(classCount: checkpoint.classCount) + "\n"
        if out == nil { print(text, terminator: ""); text = "" }
        var predicted = 0
        let start = Date()
        let invalid = try RecordPrediction.predict(
            records: records, encoder: encoder, maxBases: maxLength, onInvalid: onInvalid,
            makeClassifier: { longest in
                // Buffers for at most the records there are, checked against the memory before they are allocated.
                let b = min(batch, max(records.count, 1))
                try MemoryEstimate.inference(parameters: checkpoint.parameters, batch: b, maxLength: longest,
                                             workers: pool.workerCount)
                    .check(lower: "--batch (\(batch)) or --max-length (\(maxLength) bases; the longest record given has "
                        + "\(longest) tokens)")
                return try checkpoint.sequenceClassifier(pool: pool, maxLength: longest, batchSize: b)
            },
            emit: { rows in
                let lines = rows.map { $0.csvRow + "\n" }.joined()
                if out == nil { print(lines, terminator: "") } else { text += lines }
                predicted += rows.count
                logger.info("\(predicted) of \(records.count) records classified")
            })
        if let out { try OutputFile.write(text, to: out, wanted: "the predictions (--out)") }
        for bad in invalid { logger.warning("skipped \(bad.description)") }
        let seconds = Date().timeIntervalSince(start)
        let rate = String(format: "%.1f s, %.0f records/s", seconds, Double(predicted) / max(seconds, 1e-9))
        logger.notice("\(records.count) records: \(predicted) classified, \(invalid.count) skipped as invalid (\(rate))\(out.map { "; wrote \($0)" } ?? "")")
    }
}

extension InvalidRecordPolicy: ExpressibleByArgument {}
