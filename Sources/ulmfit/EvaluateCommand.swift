import ArgumentParser
import Foundation
import GenomicData
import Kernels
import Pipeline

/// `ulmfit evaluate`: scores a saved classifier on one split of a prepared dataset.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a classifier checkpoint on a split of a prepared dataset (accuracy, MCC, F1, confusion).",
        discussion: "Prints the metrics; with --out also writes <split>.json (metrics and confusion matrix) and <split>-predictions.csv.")

    enum Split: String, ExpressibleByArgument, CaseIterable { case train, valid, test }

    @Option(help: "Classifier: a train-classifier run folder or one of its checkpoints (e.g. runs/classifier).") var model: String
    @Option(help: "A prepared dataset.csv (from `ulmfit prepare`).") var dataset: String
    @Option(help: "Split to evaluate: train, valid or test.") var split: Split = .test
    @Option(help: "Sequences per batch.") var batch = 64
    @Option(help: "Directory for <split>.json and <split>-predictions.csv.") var out: String?

    @OptionGroup var layout: LayoutOptions

    func run() throws {
        configureBLASForWorkers()
        let pool = try layout.makePool()
        let checkpoint = try ClassifierCheckpoint.load(from: model)
        print("--model: \(checkpoint.model.resolution)")
        let encoder = try KmerEncoder(vocabulary: checkpoint.vocabulary())
        let part = try PreparedDataset.load(path: dataset)[DatasetSplit(rawValue: split.rawValue)!]
        guard part.count > 0 else { throw ValidationError("\(dataset) has no \(split.rawValue) split") }
        let data = try EncodedClassificationData.encode(part, split: DatasetSplit(rawValue: split.rawValue)!,
                                                        encoder: encoder, source: dataset)
        let evaluation = try checkpoint.evaluate(sequences: data.sequences, labels: data.labels, pool: pool, batchSize: batch)
        print("\(split.rawValue) (\(part.count) sequences, step \(checkpoint.model.step)): \(evaluation.summaryLine)")
        print("confusion (rows true, columns predicted): \(evaluation.metrics.confusion)")
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try evaluation.writeJSON(to: (out as NSString).appendingPathComponent("\(split.rawValue).json"),
                                     extra: ["split": split.rawValue, "model": model, "step": checkpoint.model.step])
            try evaluation.writePredictions(to: (out as NSString).appendingPathComponent("\(split.rawValue)-predictions.csv"))
        }
    }
}
