import ArgumentParser
import GenomicData
import Kernels
import Pipeline

/// `ulmfit evaluate`: scores a saved classifier on one split of a prepared dataset.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a classifier checkpoint on a split of a prepared dataset (accuracy, MCC, F1, confusion).",
        discussion: """
            Prints the metrics; with --out also writes <split>.json (metrics and confusion matrix) and \
            <split>-predictions.csv. With --config (e.g. a classifier run's config.yaml) the dataset, \
            classifier.batch and the layout come from the file.
            """)

    enum Split: String, ExpressibleByArgument, CaseIterable { case train, valid, test }

    @Option(help: "Classifier: a train-classifier run folder or one of its checkpoints (e.g. runs/classifier).")
    var model: String
    @Option(help: .key("data.dataset")) var dataset: String?
    @Option(help: "Split to evaluate: train, valid or test.") var split: Split = .test
    @Option(parsing: .unconditional, help: .key("classifier.batch")) var batch: String?
    @Option(help: "Folder for <split>.json and <split>-predictions.csv (files of those names there are replaced).")
    var out: String?

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var layout: LayoutOptions
    @OptionGroup var verbosity: VerbosityOptions

    func run() throws {
        let logger = verbosity.logger
        let config = try configOptions.resolve([.option("data.dataset", "--dataset", dataset),
                                                .option("classifier.batch", "--batch", batch)] + layout.overrides)
        configureBLASForWorkers()
        let job = try EvaluationJob(config: config, model: model, split: DatasetSplit(rawValue: split.rawValue)!,
                                    out: out, logger: logger)
        _ = try job.run(logger: logger)
    }
}
