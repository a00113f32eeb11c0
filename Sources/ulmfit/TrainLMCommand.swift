import ArgumentParser
import Checkpoint
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
            time split), valid.jsonl/.csv, loss.svg and checkpoints/step-N/ (sharded checkpoints). With \
            --init-from the weights start from a language model (a run folder or one of its \
            checkpoints; fine-tuning); its vocabulary is used.
            With --config FILE the settings come from a YAML file (configs/*.yaml); flags given on the \
            command line override it.
            Checkpoints (every --checkpoint-every steps, every --checkpoint-minutes minutes, after each \
            validation and epoch, and on SIGINT/SIGTERM, which stop the run after the current step) hold \
            everything to continue: --resume OUT continues the run exactly where it stopped.
            """)

    @Option(help: "YAML run configuration (see configs/); flags given on the command line override its values.")
    var config: String?

    // Every setting below is optional without a default so that "not given" can fall back to the
    // config file; the built-in defaults (shown in the help) are applied in `resolve()`.

    @Option(name: .customLong("fasta"), help: "Genome FASTA (plain or .gz); repeat for several.")
    var fastaPaths: [String] = []

    @Option(help: "A prepared dataset.csv (from `ulmfit prepare`): train on its train split, validate on valid.")
    var dataset: String?

    enum CorpusSplits: String, ExpressibleByArgument, CaseIterable, Codable {
        case train
        case trainValid = "train+valid"
        var splits: [DatasetSplit] { self == .train ? [.train] : [.train, .valid] }
    }
    @Option(help: "With --dataset: train on its train split and validate on valid (train), or train on both and validate on a held-out --valid-fraction of them (train+valid). The test split is never read.")
    var corpusSplits: CorpusSplits?

    @Option(help: "Vocabulary JSON (default: built from the training data and saved to OUT/vocab.json).")
    var vocab: String?

    @Option(help: "Start from this language model: a train-lm run folder or one of its checkpoints (fine-tuning).")
    var initFrom: String?

    @Option(help: "k-mer size when building the vocabulary (default: 5).") var k: Int?
    @Option(help: "k-mer stride when building the vocabulary (default: 2).") var stride: Int?
    @Option(help: "Read at most this many bases of the FASTA inputs.") var maxBases: Int?
    @Option(help: "Fraction of genome chunks (10 kb) held out for validation (default: 0.1).") var validFraction: Double?

    @Option(help: "Embedding size E (default: 400).") var emb: Int?
    @Option(help: "Hidden size H (default: 1150).") var hidden: Int?
    @Option(help: "LSTM layers (default: 3).") var layers: Int?
    @Option(help: "Multiplier of every dropout probability, fastai drop_mult (default: 1).") var dropMult: Float?
    @Option(help: "Streams per minibatch, all workers (default: 64).") var batch: Int?
    @Option(help: "BPTT window length (default: 70).") var bptt: Int?
    @Option(help: "Epochs (default: 1).") var epochs: Int?
    @Option(help: "Stop after this many steps.") var maxSteps: Int?
    @Option(help: "Peak learning rate, one-cycle (default: 0.002).") var lr: Double?
    @Option(help: "Fraction of steps warming up (default: 0.25).") var pctStart: Double?
    @Option(help: "Decoupled weight decay (default: 0.01).") var wd: Double?
    @Option(help: "Clip gradients to this global norm.") var clip: Double?
    @Option(help: "Activation regularization (AR) coefficient (default: 2).") var alpha: Float?
    @Option(help: "Temporal activation regularization (TAR) coefficient (default: 1).") var beta: Float?
    @Option(help: "Validate every this many steps (and after each epoch).") var evalEvery: Int?
    @Option(help: "Deterministic mode: cut every minibatch into this many fixed shards (weights independent of the worker count).")
    var deterministicShards: Int?
    @Option(help: "Random seed (default: 42).") var seed: UInt64?
    @Option(help: "Results directory (default: runs/lm).") var out: String?

    @OptionGroup var layout: LayoutOptions
    @OptionGroup var checkpointing: CheckpointOptions

    /// The run's final settings: command-line flag, else config file, else (resuming) the
    /// run's recorded settings, else built-in default. Recorded in every checkpoint.
    struct Settings: Codable {
        var fastaPaths: [String]
        var dataset, vocab, initFrom: String?
        var k, stride: Int
        var maxBases: Int?
        var validFraction: Double
        var emb, hidden, layers: Int
        var dropMult: Float
        var batch, bptt, epochs: Int
        var maxSteps: Int?
        var lr, pctStart, wd: Double
        var clip: Double?
        var alpha, beta: Float
        /// With a dataset: the splits the LM trains on (nil in runs saved before it existed: train).
        var corpusSplits: CorpusSplits?
        var evalEvery, deterministicShards: Int?
        var seed: UInt64
        var out: String
        var layout: SavedLayout
        var checkpoints: CheckpointOptions.Saved

        /// Settings a resumed run may change: where the data and results are (the data's
        /// contents are checked against the checkpoint's fingerprint, the vocabulary against its
        /// hash), the worker layout and the checkpoint options.
        static let mayDifferOnResume: Set<String> = ["fastaPaths", "dataset", "vocab", "initFrom", "out", "layout",
                                                     "checkpoints"]

        /// These settings as a config with every value set (a resumed run layers options over it).
        var asConfig: RunConfig {
            RunConfig(
                data: .init(fasta: dataset == nil ? fastaPaths : nil, dataset: dataset, vocab: vocab, initFrom: initFrom,
                            k: k, stride: stride, maxBases: maxBases, validFraction: validFraction),
                model: .init(emb: emb, hidden: hidden, layers: layers, dropMult: dropMult),
                training: .init(batch: batch, bptt: bptt, epochs: epochs, maxSteps: maxSteps, lr: lr, pctStart: pctStart,
                                wd: wd, clip: clip, alpha: alpha, beta: beta, evalEvery: evalEvery, seed: seed,
                                deterministicShards: deterministicShards),
                layout: layout.section, out: out)
        }
    }

    /// The command-line flags as a config, so flags and file merge with one rule (`layered(over:)`).
    private var flags: RunConfig {
        RunConfig(
            data: .init(fasta: fastaPaths.isEmpty ? nil : fastaPaths, dataset: dataset, vocab: vocab,
                        initFrom: initFrom, k: k, stride: stride, maxBases: maxBases, validFraction: validFraction),
            model: .init(emb: emb, hidden: hidden, layers: layers, dropMult: dropMult),
            training: .init(batch: batch, bptt: bptt, epochs: epochs, maxSteps: maxSteps, lr: lr, pctStart: pctStart,
                            wd: wd, clip: clip, alpha: alpha, beta: beta, evalEvery: evalEvery, seed: seed,
                            deterministicShards: deterministicShards),
            layout: layout.section, out: out)
    }

    func validate() throws {
        if !fastaPaths.isEmpty && dataset != nil {
            throw ValidationError("give genome FASTA files (--fasta) or a prepared dataset (--dataset), not both")
        }
        for (name, value) in [("--batch", batch), ("--bptt", bptt), ("--epochs", epochs)] where (value ?? 1) < 1 {
            throw ValidationError("\(name) must be positive")
        }
        if checkpointing.resume != nil, initFrom != nil {
            throw ValidationError("--init-from starts a run from a model; --resume continues a run (its weights come from its checkpoint)")
        }
    }

    /// Merges flags over the config file (if any), over the resumed run's settings (if any), and
    /// fills in the defaults.
    private func resolve(resume: ResumePoint?) throws -> Settings {
        let saved = try resume?.savedSettings(Settings.self)
        var file = try config.map { try RunConfig.load(path: $0) } ?? RunConfig()
        if let saved { file = file.layered(over: saved.asConfig) }
        let c = flags.layered(over: file)
        guard c.data.fasta != nil || c.data.dataset != nil else {
            throw ValidationError("give genome FASTA files (--fasta or data.fasta) or a prepared dataset (--dataset or data.dataset)")
        }
        return Settings(
            fastaPaths: c.data.fasta ?? [], dataset: c.data.dataset, vocab: c.data.vocab, initFrom: c.data.initFrom,
            k: c.data.k ?? 5, stride: c.data.stride ?? 2, maxBases: c.data.maxBases,
            validFraction: c.data.validFraction ?? 0.1,
            emb: c.model.emb ?? 400, hidden: c.model.hidden ?? 1150, layers: c.model.layers ?? 3,
            dropMult: c.model.dropMult ?? 1,
            batch: c.training.batch ?? 64, bptt: c.training.bptt ?? 70, epochs: c.training.epochs ?? 1,
            maxSteps: c.training.maxSteps, lr: c.training.lr ?? 2e-3, pctStart: c.training.pctStart ?? 0.25,
            wd: c.training.wd ?? 0.01, clip: c.training.clip, alpha: c.training.alpha ?? 2, beta: c.training.beta ?? 1,
            corpusSplits: corpusSplits ?? saved?.corpusSplits ?? .train, evalEvery: c.training.evalEvery, deterministicShards: c.training.deterministicShards,
            seed: c.training.seed ?? 42, out: try resume.map { try CheckpointOptions.out(given: out, resume: $0) } ?? c.out ?? "runs/lm",
            layout: SavedLayout(c.layout), checkpoints: try checkpointing.resolved(saved: saved?.checkpoints))
    }

    func run() throws {
        let resume = try checkpointing.openResume(expecting: .languageModel)
        let s = try resolve(resume: resume)
        let runConfig = try JSONValue(encoding: s)
        if let resume {
            try resume.check(config: runConfig, mayDiffer: Settings.mayDifferOnResume,
                             vocabulary: try vocab.map { try Vocabulary.load(from: $0) })
        }
        configureBLASForWorkers()
        // Plan the layout first: an impossible layout fails before any data is read.
        let pool = try layout.makePool(config: s.layout.section)
        try FileManager.default.createDirectory(atPath: s.out, withIntermediateDirectories: true)

        var initial: ModelCheckpoint?
        if resume == nil, let initFrom = s.initFrom {
            let checkpoint = try ModelCheckpoint.load(from: initFrom, expecting: .languageModel, role: "--init-from")
            print("--init-from: \(checkpoint.resolution)")
            initial = checkpoint
        }
        var vocabulary: Vocabulary
        if let resume {
            vocabulary = try resume.vocabulary()
        } else if let initial {
            vocabulary = try initial.vocabulary()
        } else if let vocab = s.vocab {
            vocabulary = try Vocabulary.load(from: vocab)
        } else {
            vocabulary = try buildVocabulary(s)
        }
        if resume == nil { try vocabulary.save(to: (s.out as NSString).appendingPathComponent("vocab.json")) }
        let encoder = try KmerEncoder(vocabulary: vocabulary)

        let corpus = try s.dataset.map {
            try LanguageModelCorpus.fromPreparedDataset(path: $0, encoder: encoder, splits: (s.corpusSplits ?? .train).splits,
                                                        validFraction: s.validFraction, seed: s.seed)
        }
            ?? LanguageModelCorpus.fromFasta(paths: s.fastaPaths, encoder: encoder, validFraction: s.validFraction,
                                             seed: s.seed, maxBases: s.maxBases)
        corpus.summaries.forEach { print($0) }

        var modelConfig = initial?.config ?? AWDLSTMConfig(vocabSize: vocabulary.count, embeddingSize: s.emb,
                                                            hiddenSize: s.hidden, layerCount: s.layers)
        modelConfig = resume?.shape.config ?? modelConfig.scaled(dropMult: s.dropMult)
        if let initial { try initial.validate(against: LanguageModelParameters(config: modelConfig).layout) }
        var trainerOptions = LanguageModelTrainerOptions()
        trainerOptions.batchSize = s.batch
        trainerOptions.bptt = s.bptt
        trainerOptions.seed = s.seed
        trainerOptions.regularization = ActivationRegularization(alpha: s.alpha, beta: s.beta)
        trainerOptions.deterministicShards = s.deterministicShards
        var options = LanguageModelRunOptions(outDirectory: s.out)
        options.epochs = s.epochs
        options.maxSteps = s.maxSteps
        options.learningRate = s.lr
        options.pctStart = s.pctStart
        options.weightDecay = s.wd
        options.maxGradNorm = s.clip
        options.evalEvery = s.evalEvery
        options.checkpoints = CheckpointOptions.policy(s.checkpoints)
        options.runConfig = runConfig
        print("BLAS: \(blasConfiguration())")
        print(pool.layout.table())
        try CheckpointOptions.stoppable(command: "train-lm") { stop in
            _ = try runLanguageModel(corpus: corpus, vocabulary: vocabulary, config: modelConfig,
                                     trainerOptions: trainerOptions, options: options, pool: pool,
                                     initialParameters: initial?.params, resume: resume, stop: stop)
        }
    }

    private func buildVocabulary(_ s: Settings) throws -> Vocabulary {
        let (dataset, fastaPaths, maxBases) = (s.dataset, s.fastaPaths, s.maxBases)
        let tokenizer = try KmerTokenizer(k: s.k, stride: s.stride)
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
