import ArgumentParser
import Pipeline

/// The `training:` options of `train-lm`.
struct LanguageModelTrainingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: .key("training.batch")) var batch: String?
    @Option(parsing: .unconditional, help: .key("training.bptt")) var bptt: String?
    @Option(parsing: .unconditional, help: .key("training.epochs")) var epochs: String?
    @Option(parsing: .unconditional, help: .key("training.max_steps")) var maxSteps: String?
    @Option(parsing: .unconditional, help: .key("training.lr")) var lr: String?
    @Option(parsing: .unconditional, help: .key("training.pct_start")) var pctStart: String?
    @Option(parsing: .unconditional, help: .key("training.wd")) var wd: String?
    @Option(parsing: .unconditional, help: .key("training.clip")) var clip: String?
    @Option(parsing: .unconditional, help: .key("training.alpha")) var alpha: String?
    @Option(parsing: .unconditional, help: .key("training.beta")) var beta: String?
    @Option(parsing: .unconditional, help: .key("training.eval_every")) var evalEvery: String?
    @Option(parsing: .unconditional, help: .key("training.seed")) var seed: String?
    @Option(parsing: .unconditional, help: .key("training.deterministic_shards")) var deterministicShards: String?

    var overrides: [ConfigOverride?] {
        [.option("training.batch", "--batch", batch), .option("training.bptt", "--bptt", bptt),
         .option("training.epochs", "--epochs", epochs), .option("training.max_steps", "--max-steps", maxSteps),
         .option("training.lr", "--lr", lr), .option("training.pct_start", "--pct-start", pctStart),
         .option("training.wd", "--wd", wd), .option("training.clip", "--clip", clip),
         .option("training.alpha", "--alpha", alpha), .option("training.beta", "--beta", beta),
         .option("training.eval_every", "--eval-every", evalEvery), .option("training.seed", "--seed", seed),
         .option("training.deterministic_shards", "--deterministic-shards", deterministicShards)]
    }
}
