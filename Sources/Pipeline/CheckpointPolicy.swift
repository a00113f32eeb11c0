import Foundation

/// When a training run writes checkpoints and how many it keeps.
///
/// Besides every `everySteps` steps and every `everyMinutes` minutes, a run writes one at the
/// end of every epoch and stage (a language model also after every validation), at the end,
/// and when it is asked to stop (SIGINT, SIGTERM). Writing a checkpoint only reads the
/// training state, so the frequency never changes the results.
public struct CheckpointPolicy: Sendable, Equatable {
    /// Checkpoints kept (the newest); nil keeps all.
    public var keep: Int? = 3
    /// Write every this many optimizer steps (counted from the run's start, so a resumed run
    /// writes at the same steps); nil: not by step count.
    public var everySteps: Int?
    /// Write when this many minutes have passed since the last checkpoint (or the start); nil:
    /// not by time. The default bounds the work a crash loses (a paper-model checkpoint costs
    /// about a second; benchmarks/README.md).
    public var everyMinutes: Double? = 10

    public init(keep: Int? = 3, everySteps: Int? = nil, everyMinutes: Double? = 10) {
        self.keep = keep
        self.everySteps = everySteps
        self.everyMinutes = everyMinutes
    }

    /// - Throws: `CheckpointPolicyError` naming the option (`--keep`, `--checkpoint-every`,
    ///   `--checkpoint-minutes`) when a value is out of range.
    public func validate() throws {
        if let keep, keep < 1 { throw CheckpointPolicyError(option: "--keep", "must be at least 1, got \(keep)") }
        if let everySteps, everySteps < 1 {
            throw CheckpointPolicyError(option: "--checkpoint-every", "must be at least 1 step, got \(everySteps)")
        }
        if let everyMinutes, !(everyMinutes > 0 && everyMinutes.isFinite) {
            throw CheckpointPolicyError(option: "--checkpoint-minutes", "must be a positive number of minutes, got \(everyMinutes)")
        }
    }
}

/// A checkpoint setting out of range, naming the option.
public struct CheckpointPolicyError: Error, CustomStringConvertible, Sendable {
    public let option: String
    public let message: String
    init(option: String, _ message: String) {
        self.option = option
        self.message = message
    }
    public var description: String { "\(option) \(message)" }
}

/// Says after each step whether a periodic checkpoint is due.
struct CheckpointClock {
    let policy: CheckpointPolicy
    private var last = Date()

    init(_ policy: CheckpointPolicy) { self.policy = policy }

    func isDue(afterStep step: Int) -> Bool {
        if let every = policy.everySteps, step % every == 0 { return true }
        if let minutes = policy.everyMinutes, Date().timeIntervalSince(last) >= minutes * 60 { return true }
        return false
    }

    /// A checkpoint was just written (of any kind): the time interval restarts.
    mutating func wrote() { last = Date() }
}
