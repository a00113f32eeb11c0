import ArgumentParser
import Checkpoint
import Foundation
import Parallel
import Pipeline

/// The checkpoint and resume options of the training commands (`train-lm`, `train-classifier`).
struct CheckpointOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Continue an interrupted run: its folder (the newest intact checkpoint) or RUN/checkpoints/step-N. "
        + "Its settings come from the checkpoint; options given with it must not contradict them (the worker layout "
        + "and the checkpoint options may change).", valueName: "run"))
    var resume: String?

    @Option(help: "Checkpoints to keep, the newest; 0 keeps all (default: \(CheckpointPolicy().keep ?? 0)).")
    var keep: Int?

    @Option(name: .customLong("checkpoint-every"), help: "Also write a checkpoint every N optimizer steps.")
    var checkpointEvery: Int?

    @Option(name: .customLong("checkpoint-minutes"),
            help: "Write a checkpoint when M minutes have passed since the last; 0: not by time (default: \(CheckpointPolicy().everyMinutes ?? 0)).")
    var checkpointMinutes: Double?

    /// What a run records of these options (and a resumed run reads back as its defaults).
    struct Saved: Codable, Equatable {
        var keep: Int
        var every: Int?
        var minutes: Double
    }

    /// The options given, else those `saved` by the run being resumed, else the defaults.
    func resolved(saved: Saved?) throws -> Saved {
        let defaults = CheckpointPolicy()
        let s = Saved(keep: keep ?? saved?.keep ?? defaults.keep ?? 0, every: checkpointEvery ?? saved?.every,
                      minutes: checkpointMinutes ?? saved?.minutes ?? defaults.everyMinutes ?? 0)
        if s.keep < 0 { throw ValidationError("--keep must be 0 (keep all) or more, got \(s.keep)") }
        if !(s.minutes >= 0 && s.minutes.isFinite) {
            throw ValidationError("--checkpoint-minutes must be 0 (off) or a positive number, got \(s.minutes)")
        }
        if let every = s.every, every < 1 { throw ValidationError("--checkpoint-every must be at least 1, got \(every)") }
        return s
    }

    static func policy(_ s: Saved) -> CheckpointPolicy {
        CheckpointPolicy(keep: s.keep == 0 ? nil : s.keep, everySteps: s.every, everyMinutes: s.minutes == 0 ? nil : s.minutes)
    }

    /// The checkpoint `--resume` names, verified (nil without `--resume`); says which one it uses.
    func openResume(expecting kind: ModelCheckpoint.Kind) throws -> ResumePoint? {
        guard let resume else { return nil }
        let point = try ResumePoint.open(resume, expecting: kind)
        print("--resume: \(point.resolution)")
        return point
    }

    /// The results folder of a resumed run: its own (a different `--out` is an error).
    static func out(given: String?, resume: ResumePoint) throws -> String {
        if let given, URL(fileURLWithPath: given).standardizedFileURL.path != resume.run {
            throw ValidationError("--out \(given): a resumed run continues in its own folder \(resume.run)")
        }
        return resume.run
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

/// The `layout` settings as a run records them.
struct SavedLayout: Codable, Equatable {
    var workers: Int?
    var bind: String?
    var policy: String?
    var cpus: String?
    var oversubscribe: Bool?

    init(_ s: RunConfig.LayoutSection) {
        workers = s.workers
        bind = s.bind?.rawValue
        policy = s.policy?.rawValue
        cpus = s.cpus
        oversubscribe = s.oversubscribe
    }

    var section: RunConfig.LayoutSection {
        RunConfig.LayoutSection(workers: workers, bind: bind.flatMap(BindingUnit.init(rawValue:)),
                                policy: policy.flatMap(PlacementPolicy.init(rawValue:)), cpus: cpus,
                                oversubscribe: oversubscribe)
    }
}

extension ResumePoint {
    /// The settings the run recorded, as the command that wrote them defines them.
    func savedSettings<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try config.decode(T.self)
        } catch {
            throw CheckpointError(file: checkpoint.manifestPath, field: "config", "does not hold the settings of this "
                + "command (written by another build or command?): \(error)")
        }
    }
}
