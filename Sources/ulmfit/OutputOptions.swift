import ArgumentParser
import Pipeline

/// `--out` and `--overwrite` of the commands that write a run folder.
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Results folder (out; default: runs/lm for train-lm, runs/classifier for "
        + "train-classifier, runs/main for run).", valueName: "folder"))
    var out: String?

    @Flag(help: "Replace the run in --out if it holds one (otherwise such a folder is refused).")
    var overwrite = false

    var override: ConfigOverride? { .option("out", "--out", out) }
    var mode: RunFolder.Mode { overwrite ? .overwrite : .fresh }
}
