import Foundation
import Parallel

/// The process group of this run, chosen from how the process was started: MPI when a launcher
/// (mpirun, srun) started several processes, otherwise one process and no MPI at all.
///
/// A command calls `join` once; `ULMFiT.main` calls `finish` after a successful command (every
/// rank checks in, then MPI is finalized) and `abort` after an error (which must end the other
/// ranks at once rather than leave them waiting for the timeout).
public enum ClusterSession {
    /// Seconds a collective waits when neither `--mpi-timeout` nor `ULMFIT_MPI_TIMEOUT` says:
    /// longer than the longest pause between two steps of a healthy job (a validation pass or a
    /// checkpoint of the paper model on a slow node), short enough to free a stuck allocation.
    public static let defaultTimeout = 600.0

    private static let lock = NSLock()
    nonisolated(unsafe) private static var group: ProcessGroup?
    nonisolated(unsafe) private static var detected: LaunchEnvironment?

    /// How this process was started (set by `join`; nil before).
    public static var launch: LaunchEnvironment? {
        lock.lock()
        defer { lock.unlock() }
        return detected
    }

    /// The part of its node this process's workers use (the whole node before `join`, or when the
    /// launcher put one process there).
    public static var nodeShare: NodeShare { launch?.nodeShare ?? .whole }

    /// The job's process group (created on the first call, the same object afterwards).
    /// - Parameters:
    ///   - timeout: seconds a collective may wait; nil: `ULMFIT_MPI_TIMEOUT`, else `defaultTimeout`.
    ///   - environment: the process environment (tests pass their own).
    /// - Throws: `ClusterError` when a launcher started several processes but MPI cannot be
    ///   loaded or disagrees with it, or the timeout is not a positive number.
    public static func join(timeout: Double? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProcessGroup {
        lock.lock()
        defer { lock.unlock() }
        if let group { return group }
        let launch = try LaunchEnvironment.detect(environment)
        detected = launch
        let joined: ProcessGroup
        if launch.isMultiProcess {
            let seconds = try timeout ?? environment["ULMFIT_MPI_TIMEOUT"].map(parseTimeout) ?? defaultTimeout
            joined = try MPIProcessGroup(launch: launch, library: environment["ULMFIT_MPI_LIBRARY"], timeout: seconds)
        } else {
            joined = SingleProcess(reason: launch.launcher == .none ? "1 process, not started by mpirun or srun"
                                                                    : "1 process, \(launch)")
        }
        group = joined
        return joined
    }

    /// After a successful command: every rank checks in (with the timeout), then MPI is finalized.
    public static func finish() {
        lock.lock()
        defer { lock.unlock() }
        (group as? MPIProcessGroup)?.finish()
    }

    /// After a failed command in a multi-process job: prints `message` with this rank's name and
    /// ends every process (exit code 1). Returns when the job is a single process, or has already
    /// ended normally (`finish`), so the caller reports the error as usual.
    public static func abortIfMultiProcess(message: String) {
        lock.lock()
        let mpi = group as? MPIProcessGroup
        lock.unlock()
        if let mpi, !mpi.finished { mpi.abort(message: message, code: 1) }
    }

    /// Parses a timeout in seconds (`--mpi-timeout`, `ULMFIT_MPI_TIMEOUT`).
    public static func parseTimeout(_ text: String) throws -> Double {
        guard let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds > 0, seconds.isFinite else {
            throw ClusterError.badTimeout("'\(text)'")
        }
        return seconds
    }
}
