import ArgumentParser
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
            accuracy.svg and checkpoints/step-N/ (weights and BatchNorm statistics; see `ulmfit evaluate`).
            """)

    enum Stages: String, ExpressibleByArgument, CaseIterable { case ulmfit, all }

    @Option(help: "A prepared dataset.csv (from `ulmfit prepare`).")
    var dataset: String

    @Option(help: "Language model whose encoder starts the classifier: a train-lm run folder or one of its checkpoints (e.g. runs/finetune).")
    var encoder: String?

    @Option(help: "Vocabulary JSON when training from scratch (default: built from the train split).")
    var vocab: String?

    @Option(help: "k-mer size when building the vocabulary (from scratch).") var k = 5
    @Option(help: "k-mer stride when building the vocabulary (from scratch).") var stride = 2
    @Option(help: "Embedding size E (from scratch).") var emb = 400
    @Option(help: "Hidden size H (from scratch).") var hidden = 1150
    @Option(help: "LSTM layers (from scratch).") var layers = 3
    @Option(help: "Multiplier of fastai's classifier dropouts (Genomic ULMFiT: 0.5).") var dropMult: Float = 0.5
    @Option(help: "Sequences per minibatch (all workers).") var batch = 64
    @Option(help: "The encoder's backward is truncated every this many tokens.") var bptt = 70
    @Option(help: "Peak learning rate of the head (first stage); later stages use fractions of it.") var lr = 2e-2
    @Option(help: "Epochs of the last (all groups) stage.") var epochs = 2
    @Option(help: "Training stages: ulmfit (gradual unfreezing) or all (default: ulmfit with --encoder, else all).")
    var stages: Stages?
    @Option(help: "Stop each stage after this many steps (quick passes).") var maxSteps: Int?
    @Option(help: "Fraction of each stage's steps warming up.") var pctStart = 0.25
    @Option(help: "Decoupled weight decay.") var wd = 0.01
    @Option(help: "Clip gradients to this global norm.") var clip: Double?
    @Option(help: "Activation regularization (AR) on the last LSTM layer's output, as fastai's text learners (0: off).")
    var alpha: Float = 2
    @Option(help: "Temporal activation regularization (TAR) on the last LSTM layer's output (0: off).")
    var beta: Float = 1
    @Option(help: "Deterministic mode: cut every minibatch into this many fixed shards (weights independent of the worker count).")
    var deterministicShards: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Results directory.") var out = "runs/classifier"

    @OptionGroup var layout: LayoutOptions

    func validate() throws {
        if batch < 1 || bptt < 1 || epochs < 1 { throw ValidationError("--batch, --bptt and --epochs must be positive") }
        if encoder != nil, vocab != nil { throw ValidationError("--vocab is for training from scratch; --encoder brings its own vocabulary") }
        if !(lr > 0) { throw ValidationError("--lr must be positive") }
        if !(alpha >= 0 && beta >= 0) { throw ValidationError("--alpha and --beta must be non-negative") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be positive") }
    }

    func run() throws {
        configureBLASForWorkers()
        let pool = try layout.makePool()
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let prepared = try PreparedDataset.load(path: dataset)
        print("dataset: \(prepared)")

        var vocabulary: Vocabulary
        let config: AWDLSTMConfig
        var checkpoint: ModelCheckpoint?
        if let encoder {
            let header = try ModelCheckpoint.load(from: encoder, expecting: .languageModel, role: "--encoder")
            print("--encoder: \(header.resolution)")
            checkpoint = header
            vocabulary = try header.vocabulary()
            config = EncoderTransfer.classifierConfig(of: header, dropMult: dropMult)
        } else {
            if let vocab {
                vocabulary = try Vocabulary.load(from: vocab)
            } else {
                let tokenizer = try KmerTokenizer(k: k, stride: stride)
                if let warning = tokenizer.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                var counter = try KmerCounter(tokenizer: tokenizer)
                for sequence in prepared[.train].sequences { counter.add(sequence) }
                vocabulary = try counter.vocabulary()
            }
            config = AWDLSTMConfig.classifier(vocabSize: vocabulary.count, embeddingSize: emb, hiddenSize: hidden,
                                              layerCount: layers).scaled(dropMult: dropMult)
        }
        try vocabulary.save(to: (out as NSString).appendingPathComponent("vocab.json"))
        let data = try EncodedClassificationData(dataset: prepared, encoder: KmerEncoder(vocabulary: vocabulary), source: dataset)

        var initial: [Float]?
        if let header = checkpoint {
            let parameters = ClassifierParameters(config: config, classCount: data.classCount)
            let (values, copied) = try EncoderTransfer.initialParameters(for: parameters, seed: seed, checkpoint: header)
            initial = values
            print("encoder: \(copied.count) tensors from \(header.path) (\(header.kind.rawValue), step \(header.step))")
        }
        var trainerOptions = ClassifierTrainerOptions()
        trainerOptions.batchSize = batch
        trainerOptions.bptt = bptt
        trainerOptions.seed = seed
        trainerOptions.deterministicShards = deterministicShards
        trainerOptions.regularization = ActivationRegularization(alpha: alpha, beta: beta)
        let recipe = stages ?? (encoder == nil ? .all : .ulmfit)
        var options = ClassifierRunOptions(
            stages: recipe == .ulmfit ? ClassifierStage.ulmfit(learningRate: lr, epochs: epochs)
                                      : ClassifierStage.all(learningRate: lr, epochs: epochs),
            outDirectory: out)
        options.maxStepsPerStage = maxSteps
        options.pctStart = pctStart
        options.weightDecay = wd
        options.maxGradNorm = clip
        print("BLAS: \(blasConfiguration())")
        print(pool.layout.table())
        _ = try runClassifier(data: data, vocabulary: vocabulary, config: config, trainerOptions: trainerOptions,
                              options: options, pool: pool, initialParameters: initial)
    }
}
