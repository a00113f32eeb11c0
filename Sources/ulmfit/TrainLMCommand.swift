import ArgumentParser
import Kernels
import Pipeline

/// `ulmfit train-lm`: pretrains (on genomes) or fine-tunes (on a prepared dataset) the
/// AWD-LSTM language model with the data-parallel trainer.
struct TrainLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-lm",
        abstract: "Train the AWD-LSTM language model on genomes (--fasta) or a prepared dataset (--dataset).",
        discussion: """
            Every option is also a config key (in parentheses; `--config FILE`, `--set KEY=VALUE`): \
            options override the file, the file overrides the defaults. Everything is checked (settings, \
            sizes against the data and the memory, layout, vocabulary, checkpoint, --out) before the first \
            file is written. Writes to --out: config.yaml (every resolved setting; --config OUT/config.yaml \
            repeats the run), vocab.json, metrics.jsonl/.csv (every step), valid.jsonl/.csv, loss.svg, \
            checkpoints/step-N/ (after every validation and epoch, every 10 minutes and at the end; --resume \
            continues from the newest) and summary.json (last). With --init-from the weights, \
            vocabulary and sizes come from a language-model checkpoint (fine-tuning). Under mpirun or srun \
            the processes train one job together (each its part of every minibatch) and rank 0 alone \
            logs and writes (cluster/README.md).
            """)

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .customLong("fasta"), help: .key("data.fasta")) var fastaPaths: [String] = []
    @Option(help: .key("data.dataset")) var dataset: String?
    @Option(help: .key("data.vocab")) var vocab: String?
    @Option(help: .key("data.init_from")) var initFrom: String?
    @Option(parsing: .unconditional, help: .key("data.k")) var k: String?
    @Option(parsing: .unconditional, help: .key("data.stride")) var stride: String?
    @Option(parsing: .unconditional, help: .key("data.max_bases")) var maxBases: String?
    @Option(parsing: .unconditional, help: .key("data.valid_fraction")) var validFraction: String?
    @Option(help: .key("data.lm_splits")) var lmSplits: String?

    @Option(parsing: .unconditional, help: .key("model.emb")) var emb: String?
    @Option(parsing: .unconditional, help: .key("model.hidden")) var hidden: String?
    @Option(parsing: .unconditional, help: .key("model.layers")) var layers: String?
    @Option(parsing: .unconditional, help: .key("model.drop_mult")) var dropMult: String?

    @OptionGroup var training: LanguageModelTrainingOptions
    @OptionGroup var checkpointing: CheckpointOptions
    @OptionGroup var layout: LayoutOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var verbosity: VerbosityOptions
    @OptionGroup var cluster: ClusterOptions

    var overrides: [ConfigOverride?] {
        [.option("data.fasta", "--fasta", fastaPaths), .option("data.dataset", "--dataset", dataset),
         .option("data.vocab", "--vocab", vocab), .option("data.init_from", "--init-from", initFrom),
         .option("data.k", "--k", k), .option("data.stride", "--stride", stride),
         .option("data.max_bases", "--max-bases", maxBases), .option("data.valid_fraction", "--valid-fraction", validFraction),
         .option("data.lm_splits", "--lm-splits", lmSplits),
         .option("model.emb", "--emb", emb), .option("model.hidden", "--hidden", hidden),
         .option("model.layers", "--layers", layers), .option("model.drop_mult", "--drop-mult", dropMult)]
            + training.overrides + checkpointing.overrides + layout.overrides + [output.override]
    }

    func run() throws {
        let (group, logger) = try cluster.join(verbosity)
        let resume = try checkpointing.openResume(expecting: .languageModel, logger: logger)
        // --fasta and --dataset are one choice: either replaces the file's input.
        let config = try configOptions.resolve(overrides, exclusive: [["data.fasta", "data.dataset"]], resumed: resume)
        if resume != nil, initFrom != nil {
            throw ValidationError("--init-from starts a run from a model; --resume continues a run (its weights come from its checkpoint)")
        }
        configureBLASForWorkers()
        let job = try LanguageModelJob(config: config, resume: resume, mode: output.mode, node: cluster.nodeShare,
                                       logger: logger)
        var summary: LanguageModelRunSummary?
        try CheckpointOptions.stoppable(command: "train-lm", group: group) { stop in
            summary = try job.run(mode: output.mode, stop: stop, group: group, logger: logger)
        }
        guard let summary else { return }
        let valid = summary.validation.last.map { String(format: ", validation loss %.4f, accuracy %.4f", $0.loss, $0.accuracy) } ?? ""
        print("trained \(summary.steps) steps\(valid); results in \(ConfigPath.display(job.out))")
    }
}
