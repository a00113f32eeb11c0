import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A request to stop a training run between two steps.
///
/// `installSignalHandlers()` makes SIGINT (Ctrl-C) and SIGTERM (what Slurm and most job
/// schedulers send before a time limit or preemption) set the process-wide request: the run
/// finishes its current step, writes a checkpoint and throws `RunInterrupted`. A second signal
/// ends the process at once (exit status 128 + signal): the previous checkpoint stays intact.
///
/// Why by hand: the handler only does what is safe in a signal handler (one atomic
/// compare-exchange, `write(2)`, `_exit(2)`); the run polls the atomic once per step.
public final class StopRequest: Sendable {
    private let pending = Atomic<Int32>(0)
    private let atStep: (step: Int, signal: Int32)?

    public init() { atStep = nil }

    /// A request that acts as if `signal` arrived during step `step` (1-based): the run stops
    /// once `step` steps are done (tests and tools: a reproducible interruption).
    public init(afterStep step: Int, signal: Int32 = SIGTERM) { atStep = (step, signal) }

    /// The signal that asked for the stop, nil while none did.
    public var signal: Int32? {
        let s = pending.load(ordering: .acquiring)
        return s == 0 ? nil : s
    }

    /// The signal that asked for a stop once `stepsDone` steps are done, nil to go on.
    public func signal(stepsDone: Int) -> Int32? {
        if let atStep, stepsDone >= atStep.step { return atStep.signal }
        return signal
    }

    /// Asks for a stop as `signal` would (tests; in-process callers). Returns false when a stop
    /// was already requested.
    @discardableResult
    public func request(signal: Int32) -> Bool {
        pending.compareExchange(expected: 0, desired: signal, ordering: .acquiringAndReleasing).exchanged
    }

    /// The request SIGINT and SIGTERM set once `installSignalHandlers()` ran.
    public static var process: StopRequest { processStop }

    /// Routes SIGINT and SIGTERM to `StopRequest.process` (idempotent) and returns it.
    @discardableResult
    public static func installSignalHandlers() -> StopRequest {
        let request = processStop   // initialized here, before any handler can run
        _ = Glibc.signal(SIGINT, handleStopSignal)
        _ = Glibc.signal(SIGTERM, handleStopSignal)
        // A parent may start us with these blocked (e.g. Foundation's Process inherits the
        // spawning thread's mask): unblock them on this thread, so that they reach the handler.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        return request
    }

    /// "SIGTERM", "SIGINT", else "signal N".
    public static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }
}

private let processStop = StopRequest()

private let stopNotice: StaticString =
    "\nulmfit: stopping after the current step to write a checkpoint (send the signal again to exit at once)\n"

/// The signal handler: async-signal-safe calls only.
private func handleStopSignal(_ signal: Int32) {
    if processStop.request(signal: signal) {
        _ = write(2, stopNotice.utf8Start, stopNotice.utf8CodeUnitCount)
    } else {
        _exit(128 + signal)
    }
}
