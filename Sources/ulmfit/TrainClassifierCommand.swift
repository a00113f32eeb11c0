import ArgumentParser
import Checkpoint
import Foundation
import GenomicData
import Kernels
import Model
import Pipeline
import Training

/// `ulmfit train-classifier`: trains the pooling classifier on a prepared dataset, from a
/// fine-tuned language model's encoder (ULMFiT) or from scratch.
struct TrainClassifierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-classifier",
        abstract: "Train the promoter classifier on a prepared dataset, from a fine-tuned encoder or from scratch.",
        discussion: """
            With --encoder the embedding and LSTM weights come from a language-model checkpoint (its \
            vocabulary and sizes are used) and training follows ULMFiT's gradual unfreezing (--stages \
            ulmfit): the head for 1 epoch at --lr, the last two groups at slice(lr/2/2.6^4, lr/2), the last \
            three at slice(lr/4/2.6^4, lr/4), then everything for --epochs epochs at slice(lr/20/2.6^4, lr/20). \
            --stages all trains every group for --epochs epochs at --lr (the default without --encoder). \
            Writes to --out: metrics.jsonl/.csv (every step), valid.jsonl/.csv (every epoch: loss, accuracy, \
            MCC), test.json (test metrics and confusion matrix), predictions.csv (test split), loss.svg, \
            accuracy.svg and checkpoints/step-N/ (weights and BatchNorm statistics; see `ulmfit evaluate`), \
            written at the end of every epoch (and every --checkpoint-every steps, every --checkpoint-minutes \
            minutes, and on SIGINT/SIGTERM, which stop the run after the current step): --resume OUT continues \
            the run exactly where it stopped, also within an epoch or a stage.
            """)

    enum Stages: String, ExpressibleByArgument, CaseIterable, Codable { case ulmfit, all }

    // Every setting is optional without a default so that "not given" can fall back to the
    // settings of a resumed run; the built-in defaults (shown in the help) apply in `resolve`.

    @Option(help: "A prepared dataset.csv (from `ulmfit prepare`).")
    var dataset: String?

    @Option(help: "Language model whose encoder starts the classifier: a train-lm run folder or one of its checkpoints (e.g. runs/finetune).")
    var encoder: String?

    @Option(help: "Vocabulary JSON when training from scratch (default: built from the train split).")
    var vocab: String?

    @Option(help: "k-mer size when building the vocabulary (from scratch; default: 5).") var k: Int?
    @Option(help: "k-mer stride when building the vocabulary (from scratch; default: 2).") var stride: Int?
    @Option(help: "Embedding size E (from scratch; default: 400).") var emb: Int?
    @Option(help: "Hidden size H (from scratch; default: 1150).") var hidden: Int?
    @Option(help: "LSTM layers (from scratch; default: 3).") var layers: Int?
    @Option(help: "Multiplier of fastai's classifier dropouts (Genomic ULMFiT: 0.5, the default).") var dropMult: Float?
    @Option(help: "Sequences per minibatch, all workers (default: \(ClassifierTrainerOptions().batchSize)).") var batch: Int?
    @Option(help: "The encoder's backward is truncated every this many tokens (default: \(ClassifierTrainerOptions().bptt)).")
    var bptt: Int?
    @Option(help: "Peak learning rate of the head (first stage); later stages use fractions of it (default: 0.02).") var lr: Double?
    @Option(help: "Epochs of the last (all groups) stage (default: 2).") var epochs: Int?
    @Option(help: "Training stages: ulmfit (gradual unfreezing) or all (default: ulmfit with --encoder, else all).")
    var stages: Stages?
    @Option(help: "Stop each stage after this many steps (quick passes).") var maxSteps: Int?
    @Option(help: "Fraction of each stage's steps warming up (default: 0.25).") var pctStart: Double?
    @Option(help: "Decoupled weight decay (default: 0.01).") var wd: Double?
    @Option(help: "Clip gradients to this global norm.") var clip: Double?
    @Option(help: "Activation regularization (AR) on the last LSTM layer's output, as fastai's text learners (default: 2; 0: off).")
    var alpha: Float?
    @Option(help: "Temporal activation regularization (TAR) on the last LSTM layer's output (default: 1; 0: off).")
    var beta: Float?
    @Option(help: "Deterministic mode: cut every minibatch into this many fixed shards (weights independent of the worker count).")
    var deterministicShards: Int?
    @Option(help: "Random seed (default: 42).") var seed: UInt64?
    @Option(help: "Results directory (default: runs/classifier).") var out: String?

    @OptionGroup var layout: LayoutOptions
    @OptionGroup var checkpointing: CheckpointOptions

    /// The run's final settings: option, else (resuming) the run's recorded settings, else
    /// built-in default. Recorded in every checkpoint.
    struct Settings: Codable {
        var dataset: String
        var encoder, vocab: String?
        var k, stride, emb, hidden, layers: Int
        var dropMult: Float
        var batch, bptt: Int
        var lr: Double
        var epochs: Int
        var stages: Stages
        var maxSteps: Int?
        var pctStart, wd: Double
        var clip: Double?
        /// AR and TAR coefficients (nil in runs saved before they existed: fastai's defaults).
        var alpha, beta: Float?
        var deterministicShards: Int?
        var seed: UInt64
        var out: String
        var layout: SavedLayout
        var checkpoints: CheckpointOptions.Saved

        /// Settings a resumed run may change (see `TrainLMCommand.Settings.mayDifferOnResume`).
        static let mayDifferOnResume: Set<String> = ["dataset", "encoder", "vocab", "out", "layout", "checkpoints"]
    }

    func validate() throws {
        for (name, value) in [("--batch", batch), ("--bptt", bptt), ("--epochs", epochs)] where (value ?? 1) < 1 {
            throw ValidationError("\(name) must be positive")
        }
        if encoder != nil, vocab != nil { throw ValidationError("--vocab is for training from scratch; --encoder brings its own vocabulary") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        if let alpha, !(alpha >= 0) { throw ValidationError("--alpha must be non-negative") }
        if let beta, !(beta >= 0) { throw ValidationError("--beta must be non-negative") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be positive") }
        if checkpointing.resume == nil, dataset == nil { throw ValidationError("give a prepared dataset (--dataset), or --resume RUN") }
        if checkpointing.resume != nil, encoder != nil {
            throw ValidationError("--encoder starts a classifier from a language model; --resume continues a run (its weights come from its checkpoint)")
        }
    }

    private func resolve(resume: ResumePoint?) throws -> Settings {
        let saved = try resume?.savedSettings(Settings.self)
        let trainer = ClassifierTrainerOptions(), run = ClassifierRunOptions(stages: [], outDirectory: "")
        let encoder = self.encoder ?? saved?.encoder
        return Settings(
            dataset: dataset ?? saved?.dataset ?? "", encoder: encoder, vocab: vocab ?? saved?.vocab,
            k: k ?? saved?.k ?? 5, stride: stride ?? saved?.stride ?? 2, emb: emb ?? saved?.emb ?? 400,
            hidden: hidden ?? saved?.hidden ?? 1150, layers: layers ?? saved?.layers ?? 3,
            dropMult: dropMult ?? saved?.dropMult ?? 0.5, batch: batch ?? saved?.batch ?? trainer.batchSize,
            bptt: bptt ?? saved?.bptt ?? trainer.bptt, lr: lr ?? saved?.lr ?? 2e-2, epochs: epochs ?? saved?.epochs ?? 2,
            stages: stages ?? saved?.stages ?? (encoder == nil ? .all : .ulmfit),
            maxSteps: maxSteps ?? saved?.maxSteps, pctStart: pctStart ?? saved?.pctStart ?? run.pctStart,
            wd: wd ?? saved?.wd ?? run.weightDecay, clip: clip ?? saved?.clip,
            alpha: alpha ?? saved?.alpha ?? trainer.regularization.alpha, beta: beta ?? saved?.beta ?? trainer.regularization.beta,
            deterministicShards: deterministicShards ?? saved?.deterministicShards, seed: seed ?? saved?.seed ?? trainer.seed,
            out: try resume.map { try CheckpointOptions.out(given: out, resume: $0) } ?? out ?? "runs/classifier",
            layout: SavedLayout(layout.section.layered(over: saved?.layout.section ?? RunConfig.LayoutSection())),
            checkpoints: try checkpointing.resolved(saved: saved?.checkpoints))
    }

    func run() throws {
        let resume = try checkpointing.openResume(expecting: .classifier)
        let s = try resolve(resume: resume)
        let runConfig = try JSONValue(encoding: s)
        if let resume {
            try resume.check(config: runConfig, mayDiffer: Settings.mayDifferOnResume,
                             vocabulary: try vocab.map { try Vocabulary.load(from: $0) })
        }
        configureBLASForWorkers()
        let pool = try layout.makePool(config: s.layout.section)
        try FileManager.default.createDirectory(atPath: s.out, withIntermediateDirectories: true)
        let prepared = try PreparedDataset.load(path: s.dataset)
        print("dataset: \(prepared)")

        var vocabulary: Vocabulary
        let config: AWDLSTMConfig
        var checkpoint: ModelCheckpoint?
        if let resume {
            vocabulary = try resume.vocabulary()
            config = resume.shape.config
        } else if let encoder = s.encoder {
            let header = try ModelCheckpoint.load(from: encoder, expecting: .languageModel, role: "--encoder")
            print("--encoder: \(header.resolution)")
            checkpoint = header
            vocabulary = try header.vocabulary()
            config = EncoderTransfer.classifierConfig(of: header, dropMult: s.dropMult)
        } else {
            if let vocab = s.vocab {
                vocabulary = try Vocabulary.load(from: vocab)
            } else {
                let tokenizer = try KmerTokenizer(k: s.k, stride: s.stride)
                if let warning = tokenizer.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                var counter = try KmerCounter(tokenizer: tokenizer)
                for sequence in prepared[.train].sequences { counter.add(sequence) }
                vocabulary = try counter.vocabulary()
            }
            config = AWDLSTMConfig.classifier(vocabSize: vocabulary.count, embeddingSize: s.emb, hiddenSize: s.hidden,
                                              layerCount: s.layers).scaled(dropMult: s.dropMult)
        }
        if resume == nil { try vocabulary.save(to: (s.out as NSString).appendingPathComponent("vocab.json")) }
        let data = try EncodedClassificationData(dataset: prepared, encoder: KmerEncoder(vocabulary: vocabulary), source: s.dataset)

        var initial: [Float]?
        if let header = checkpoint {
            let parameters = ClassifierParameters(config: config, classCount: data.classCount)
            let (values, copied) = try EncoderTransfer.initialParameters(for: parameters, seed: s.seed, checkpoint: header)
            initial = values
            print("encoder: \(copied.count) tensors from \(header.path) (\(header.kind.rawValue), step \(header.step))")
        }
        var trainerOptions = ClassifierTrainerOptions()
        trainerOptions.batchSize = s.batch
        trainerOptions.bptt = s.bptt
        trainerOptions.seed = s.seed
        trainerOptions.deterministicShards = s.deterministicShards
        trainerOptions.regularization = ActivationRegularization(alpha: s.alpha ?? trainerOptions.regularization.alpha,
                                                                 beta: s.beta ?? trainerOptions.regularization.beta)
        var options = ClassifierRunOptions(
            stages: s.stages == .ulmfit ? ClassifierStage.ulmfit(learningRate: s.lr, epochs: s.epochs)
                                        : ClassifierStage.all(learningRate: s.lr, epochs: s.epochs),
            outDirectory: s.out)
        options.maxStepsPerStage = s.maxSteps
        options.pctStart = s.pctStart
        options.weightDecay = s.wd
        options.maxGradNorm = s.clip
        options.checkpoints = CheckpointOptions.policy(s.checkpoints)
        options.runConfig = runConfig
        print("BLAS: \(blasConfiguration())")
        print(pool.layout.table())
        try CheckpointOptions.stoppable(command: "train-classifier") { stop in
            _ = try runClassifier(data: data, vocabulary: vocabulary, config: config, trainerOptions: trainerOptions,
                                  options: options, pool: pool, initialParameters: initial, resume: resume, stop: stop)
        }
    }
}
