import ArgumentParser
import Foundation
import Logging
import Pipeline

/// The checkpoint and resume options of the training commands (`train-lm`, `train-classifier`).
/// `--keep`, `--checkpoint-every` and `--checkpoint-minutes` are the config keys `checkpoint.*`.
struct CheckpointOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Continue an interrupted run: its folder (the newest intact checkpoint) or RUN/checkpoints/step-N. "
        + "Its settings come from the checkpoint (options and --config given with it go on top and must not contradict "
        + "them; the data paths, worker layout and checkpoint options may change).", valueName: "run"))
    var resume: String?

    @Option(parsing: .unconditional, help: .key("checkpoint.keep")) var keep: String?
    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: .key("checkpoint.every"))
    var checkpointEvery: String?
    @Option(name: .customLong("checkpoint-minutes"), parsing: .unconditional, help: .key("checkpoint.minutes"))
    var checkpointMinutes: String?

    var overrides: [ConfigOverride?] {
        [.option("checkpoint.keep", "--keep", keep), .option("checkpoint.every", "--checkpoint-every", checkpointEvery),
         .option("checkpoint.minutes", "--checkpoint-minutes", checkpointMinutes)]
    }

    /// The checkpoint `--resume` names, verified (nil without `--resume`); says which one it uses.
    func openResume(expecting kind: ModelCheckpoint.Kind, logger: Logger) throws -> ResumePoint? {
        guard let resume else { return nil }
        let point = try ResumePoint.open(resume, expecting: kind)
        logger.info("--resume: \(point.resolution)")
        return point
    }

    /// Runs `body` with SIGINT/SIGTERM asking for a stop; a run stopped that way has written a
    /// checkpoint: print how to resume it and exit with 128 + the signal.
    static func stoppable(command: String, _ body: (StopRequest) throws -> Void) throws {
        let stop = StopRequest.installSignalHandlers()
        do {
            try body(stop)
        } catch let stopped as RunInterrupted {
            FileHandle.standardError.write(Data((stopped.message(executable: CommandLine.arguments[0], command: command)
                + "\n").utf8))
            throw ExitCode(stopped.exitStatus)
        }
    }
}
