import ArgumentParser
import Cluster
import Foundation
import Kernels
import Pipeline

/// `ulmfit run`: the whole method into one run folder, stage by stage, skipping stages that
/// are complete (what `scripts/run.sh` calls).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every stage (prepare, pretrain, fine-tune, classifier, test) from one config into one folder.",
        discussion: """
            Stages and their folders: data/ (prepare data.csv or data.positive/negative into dataset.csv; \
            skipped with data.dataset), pretrain/ (train-lm on data.fasta with training:), finetune/ \
            (train-lm on the dataset from pretrain/'s newest checkpoint with finetune: over training:), classifier/ \
            (train-classifier from finetune/'s newest checkpoint with classifier:), test/ (evaluate on the test split). \
            A stage whose results are complete and whose resolved config equals what would run now is \
            skipped; one that stopped (Ctrl-C, SIGTERM, a crash) with the same settings continues from its \
            newest checkpoint; one whose settings changed is run again (and every stage after it), saying why. OUT/config.yaml holds the resolved \
            pipeline: `ulmfit run --config OUT/config.yaml` repeats (or resumes) it.
            """)

    @OptionGroup var configOptions: ConfigOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Cap every training stage at this many steps (each classifier "
        + "stage too): sets training.max_steps, finetune.max_steps and classifier.max_steps."))
    var maxSteps: String?
    @Option(parsing: .unconditional, help: "Random seed of every stage: training.seed, finetune.seed, classifier.seed.")
    var seed: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Deterministic mode in every stage: training., finetune. and "
        + "classifier.deterministic_shards."))
    var deterministicShards: String?

    @OptionGroup var layout: LayoutOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var verbosity: VerbosityOptions

    var overrides: [ConfigOverride?] {
        var list: [ConfigOverride?] = layout.overrides + [output.override]
        for section in ["training", "finetune", "classifier"] {
            list += [.option("\(section).max_steps", "--max-steps", maxSteps), .option("\(section).seed", "--seed", seed),
                     .option("\(section).deterministic_shards", "--deterministic-shards", deterministicShards)]
        }
        return list
    }

    func run() throws {
        // The stages read what earlier ones wrote and decide what to skip from the folder: one
        // process does that. Several would race on the same files.
        let launch = try LaunchEnvironment.detect(ProcessInfo.processInfo.environment)
        if launch.isMultiProcess {
            guard launch.rank == 0 else { throw ExitCode.validationFailure }   // rank 0 says why, once
            throw ValidationError("ulmfit run runs every stage in one process, but it was \(launch): on several nodes run "
                + "the stages as their own jobs (ulmfit train-lm / train-classifier under mpirun or srun; "
                + "cluster/slurm/pipeline.sh chains them)")
        }
        let logger = verbosity.logger
        let config = try configOptions.resolve(overrides)
        configureBLASForWorkers()
        let job = try PipelineJob(config: config, mode: output.mode, logger: logger)
        let stop = StopRequest.installSignalHandlers()
        let test: PipelineJob.TestResult
        do {
            test = try job.run(stop: stop, logger: logger)
        } catch let stopped as RunInterrupted {
            // The stage wrote a checkpoint; the same pipeline resumes it.
            let config = ConfigPath.display((job.out as NSString).appendingPathComponent("config.yaml"))
            FileHandle.standardError.write(Data("\(stopped)\ncontinue with: \(CommandLine.arguments[0]) run --config \(config)\n".utf8))
            throw ExitCode(stopped.exitStatus)
        }
        print(String(format: "done: test accuracy %.4f, MCC %.4f; results in %@", test.accuracy, test.mcc,
                     ConfigPath.display(job.out)))
    }
}
