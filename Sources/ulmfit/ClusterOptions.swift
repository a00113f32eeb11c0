import ArgumentParser
import Cluster
import Foundation
import Parallel

/// The multi-process option of every training and benchmark command, and the one place the
/// command line joins the job's processes.
struct ClusterOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Under mpirun or srun: seconds a process waits for the others in one exchange before the job "
            + "is aborted with a message naming the rank that did not answer (default: $ULMFIT_MPI_TIMEOUT, else 600).",
        valueName: "seconds"))
    var mpiTimeout: Double?

    func validate() throws {
        if let mpiTimeout, !(mpiTimeout > 0) { throw ValidationError("--mpi-timeout must be > 0 (got \(mpiTimeout))") }
    }

    /// Joins the job (MPI when a launcher started several processes, else one process), says on
    /// rank 0 which transport it uses, and silences stdout on the other ranks: rank 0 alone
    /// prints results (their warnings and errors still go to stderr, prefixed with the rank).
    func join() throws -> ProcessGroup {
        let group = try ClusterSession.join(timeout: mpiTimeout)
        if group.isPrimary {
            print("transport: \(group.transport)")
        } else {
            fflush(stdout)
            _ = freopen("/dev/null", "w", stdout)
        }
        return group
    }
}
