import ArgumentParser
import Foundation
import GenomicData
import Kernels
import Model
import Pipeline
import Training

/// `ulmfit train-lm`: pretrains (on genomes) or fine-tunes (on a prepared dataset) the
/// AWD-LSTM language model with the data-parallel trainer.
struct TrainLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-lm",
        abstract: "Train the AWD-LSTM language model on genomes (--fasta) or a prepared dataset (--dataset).",
        discussion: """
            Writes to --out: vocab.json, metrics.jsonl/.csv (every step: loss, learning rate, tokens/s, \
            time split), valid.jsonl/.csv, loss.svg and model/ (the final weights). With --init the \
            weights start from a language-model checkpoint (fine-tuning); its vocabulary is used.
            """)

    @Option(name: .customLong("fasta"), help: "Genome FASTA (plain or .gz); repeat for several.")
    var fastaPaths: [String] = []

    @Option(help: "A prepared dataset.csv (from `ulmfit prepare`): train on its train split, validate on valid.")
    var dataset: String?

    @Option(help: "Vocabulary JSON (default: built from the training data and saved to OUT/vocab.json).")
    var vocab: String?

    @Option(help: "Start from this language-model checkpoint directory (fine-tuning).")
    var initFrom: String?

    @Option(help: "k-mer size when building the vocabulary.")
    var k = 5

    @Option(help: "k-mer stride when building the vocabulary.")
    var stride = 2

    @Option(help: "Read at most this many bases of the FASTA inputs.")
    var maxBases: Int?

    @Option(help: "Fraction of genome chunks (10 kb) held out for validation.")
    var validFraction = 0.1

    @Option(help: "Embedding size E.") var emb = 400
    @Option(help: "Hidden size H.") var hidden = 1150
    @Option(help: "LSTM layers.") var layers = 3
    @Option(help: "Multiplier of every dropout probability (fastai drop_mult).") var dropMult: Float = 1
    @Option(help: "Streams per minibatch (all workers).") var batch = 64
    @Option(help: "BPTT window length.") var bptt = 70
    @Option(help: "Epochs.") var epochs = 1
    @Option(help: "Stop after this many steps.") var maxSteps: Int?
    @Option(help: "Peak learning rate (one-cycle).") var lr = 2e-3
    @Option(help: "Fraction of steps warming up.") var pctStart = 0.25
    @Option(help: "Decoupled weight decay.") var wd = 0.01
    @Option(help: "Clip gradients to this global norm.") var clip: Double?
    @Option(help: "Activation regularization (AR) coefficient.") var alpha: Float = 2
    @Option(help: "Temporal activation regularization (TAR) coefficient.") var beta: Float = 1
    @Option(help: "Validate every this many steps (and after each epoch).") var evalEvery: Int?
    @Option(help: "Deterministic mode: cut every minibatch into this many fixed shards (weights independent of the worker count).")
    var deterministicShards: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Results directory.") var out = "runs/lm"

    @OptionGroup var layout: LayoutOptions

    func validate() throws {
        if fastaPaths.isEmpty == (dataset == nil) {
            throw ValidationError("give genome FASTA files (--fasta) or a prepared dataset (--dataset), not both")
        }
        if batch < 1 || bptt < 1 || epochs < 1 { throw ValidationError("--batch, --bptt and --epochs must be positive") }
    }

    func run() throws {
        configureBLASForWorkers()
        // Plan the layout first: an impossible layout fails before any data is read.
        let pool = try layout.makePool()
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        var initial: (ModelCheckpoint, [Float])?
        if let initFrom { initial = try ModelCheckpoint.load(from: initFrom) }
        var vocabulary: Vocabulary
        if let initial {
            vocabulary = try Vocabulary(kmers: Array(initial.0.vocabularyTokens.dropFirst(Vocabulary.specialTokens.count)),
                                        k: initial.0.k, stride: initial.0.stride)
        } else if let vocab {
            vocabulary = try Vocabulary.load(from: vocab)
        } else {
            vocabulary = try buildVocabulary()
        }
        try vocabulary.save(to: (out as NSString).appendingPathComponent("vocab.json"))
        let encoder = try KmerEncoder(vocabulary: vocabulary)

        let corpus = try dataset.map { try LanguageModelCorpus.fromPreparedDataset(path: $0, encoder: encoder) }
            ?? LanguageModelCorpus.fromFasta(paths: fastaPaths, encoder: encoder, validFraction: validFraction,
                                             seed: seed, maxBases: maxBases)
        corpus.summaries.forEach { print($0) }

        var config = initial?.0.config ?? AWDLSTMConfig(vocabSize: vocabulary.count, embeddingSize: emb,
                                                       hiddenSize: hidden, layerCount: layers)
        config = config.scaled(dropMult: dropMult)
        if let initial {
            try initial.0.validate(against: LanguageModelParameters(config: config).layout, file: initFrom! + "/model.json")
        }
        var trainerOptions = LanguageModelTrainerOptions()
        trainerOptions.batchSize = batch
        trainerOptions.bptt = bptt
        trainerOptions.seed = seed
        trainerOptions.regularization = ActivationRegularization(alpha: alpha, beta: beta)
        trainerOptions.deterministicShards = deterministicShards
        var options = LanguageModelRunOptions(outDirectory: out)
        options.epochs = epochs
        options.maxSteps = maxSteps
        options.learningRate = lr
        options.pctStart = pctStart
        options.weightDecay = wd
        options.maxGradNorm = clip
        options.evalEvery = evalEvery
        print("BLAS: \(blasConfiguration())")
        print(pool.layout.table())
        _ = try runLanguageModel(corpus: corpus, vocabulary: vocabulary, config: config,
                                 trainerOptions: trainerOptions, options: options, pool: pool,
                                 initialParameters: initial?.1)
    }

    private func buildVocabulary() throws -> Vocabulary {
        let tokenizer = try KmerTokenizer(k: k, stride: stride)
        if let warning = tokenizer.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        var counter = try KmerCounter(tokenizer: tokenizer)
        if let dataset {
            for sequence in try PreparedDataset.load(path: dataset)[.train].sequences { counter.add(sequence) }
        } else {
            var bases = 0
            for path in fastaPaths where bases < (maxBases ?? .max) {
                _ = try FastaReader(path: path, policy: .splitAtNonACGT(minLength: 1)).forEachRecord { record in
                    guard bases < (maxBases ?? .max) else { return }
                    counter.add(Array(record.sequence.prefix((maxBases ?? .max) - bases)))
                    bases += record.sequence.count
                }
            }
        }
        return try counter.vocabulary()
    }
}
