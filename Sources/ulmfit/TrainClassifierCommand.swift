import ArgumentParser
import Kernels
import Pipeline

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
            --stages head trains the head alone for --epochs epochs at --lr on the frozen encoder in eval \
            mode (no encoder dropout): a probe of what a language model's features are worth. \
            Every option is also a config key (section classifier:, data:, model:, layout:; --config FILE). \
            Writes to --out: config.yaml (every resolved setting), vocab.json, metrics.jsonl/.csv (every step), \
            valid.jsonl/.csv (every epoch: loss, accuracy, MCC), test.json, predictions.csv (test split), \
            loss.svg, accuracy.svg, checkpoints/step-N/ (every epoch; see `ulmfit evaluate`) and summary.json (last). Under mpirun or \
            srun the processes train one job together and rank 0 alone logs and writes (cluster/README.md).
            """)

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: .key("data.dataset")) var dataset: String?
    @Option(help: .key("data.encoder")) var encoder: String?
    @Option(help: .key("data.vocab")) var vocab: String?
    @Option(parsing: .unconditional, help: .key("data.k")) var k: String?
    @Option(parsing: .unconditional, help: .key("data.stride")) var stride: String?
    @Option(parsing: .unconditional, help: .key("model.emb")) var emb: String?
    @Option(parsing: .unconditional, help: .key("model.hidden")) var hidden: String?
    @Option(parsing: .unconditional, help: .key("model.layers")) var layers: String?

    @Option(help: .key("classifier.stages")) var stages: String?
    @Option(parsing: .unconditional, help: .key("classifier.batch")) var batch: String?
    @Option(parsing: .unconditional, help: .key("classifier.bptt")) var bptt: String?
    @Option(parsing: .unconditional, help: .key("classifier.epochs")) var epochs: String?
    @Option(parsing: .unconditional, help: .key("classifier.max_steps")) var maxSteps: String?
    @Option(parsing: .unconditional, help: .key("classifier.lr")) var lr: String?
    @Option(parsing: .unconditional, help: .key("classifier.pct_start")) var pctStart: String?
    @Option(parsing: .unconditional, help: .key("classifier.wd")) var wd: String?
    @Option(parsing: .unconditional, help: .key("classifier.clip")) var clip: String?
    @Option(parsing: .unconditional, help: .key("classifier.drop_mult")) var dropMult: String?
    @Option(parsing: .unconditional, help: .key("classifier.alpha")) var alpha: String?
    @Option(parsing: .unconditional, help: .key("classifier.beta")) var beta: String?
    @Option(parsing: .unconditional, help: .key("classifier.seed")) var seed: String?
    @Option(parsing: .unconditional, help: .key("classifier.deterministic_shards")) var deterministicShards: String?

    @OptionGroup var checkpointing: CheckpointOptions
    @OptionGroup var layout: LayoutOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var verbosity: VerbosityOptions
    @OptionGroup var cluster: ClusterOptions

    var overrides: [ConfigOverride?] {
        [.option("data.dataset", "--dataset", dataset), .option("data.encoder", "--encoder", encoder),
         .option("data.vocab", "--vocab", vocab), .option("data.k", "--k", k), .option("data.stride", "--stride", stride),
         .option("model.emb", "--emb", emb), .option("model.hidden", "--hidden", hidden),
         .option("model.layers", "--layers", layers),
         .option("classifier.stages", "--stages", stages), .option("classifier.batch", "--batch", batch),
         .option("classifier.bptt", "--bptt", bptt), .option("classifier.epochs", "--epochs", epochs),
         .option("classifier.max_steps", "--max-steps", maxSteps), .option("classifier.lr", "--lr", lr),
         .option("classifier.pct_start", "--pct-start", pctStart), .option("classifier.wd", "--wd", wd),
         .option("classifier.clip", "--clip", clip), .option("classifier.drop_mult", "--drop-mult", dropMult),
         .option("classifier.alpha", "--alpha", alpha), .option("classifier.beta", "--beta", beta),
         .option("classifier.seed", "--seed", seed),
         .option("classifier.deterministic_shards", "--deterministic-shards", deterministicShards)]
            + checkpointing.overrides + layout.overrides + [output.override]
    }

    func run() throws {
        let (group, logger) = try cluster.join(verbosity)
        let resume = try checkpointing.openResume(expecting: .classifier, logger: logger)
        let config = try configOptions.resolve(overrides, resumed: resume)
        if resume != nil, encoder != nil {
            throw ValidationError("--encoder starts a classifier from a language model; --resume continues a run (its weights come from its checkpoint)")
        }
        configureBLASForWorkers()
        let job = try ClassifierJob(config: config, resume: resume, mode: output.mode, node: cluster.nodeShare,
                                    logger: logger)
        var summary: ClassifierRunSummary?
        try CheckpointOptions.stoppable(command: "train-classifier", group: group) { stop in
            summary = try job.run(mode: output.mode, stop: stop, group: group, logger: logger)
        }
        guard let summary else { return }
        if let test = summary.test {
            print("test: \(test.summaryLine); results in \(ConfigPath.display(job.out))")
        } else {
            print("trained \(summary.steps) steps; results in \(ConfigPath.display(job.out))")
        }
    }
}
