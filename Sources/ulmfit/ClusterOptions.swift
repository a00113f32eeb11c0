import ArgumentParser
import Cluster
import Foundation
import Logging
import Parallel

/// The multi-process option of every training and benchmark command, and the one place the
/// command line joins the job's processes.
///
/// `--mpi-timeout` is a launch option, not a config key: it is needed to join the job, which
/// happens before any config file is read (so that a config error ends every process together
/// and is reported once); like the process count and the hostfile it describes this launch on
/// this cluster (cluster/env.sh sets `ULMFIT_MPI_TIMEOUT` per site), and it never changes what
/// is trained, so it is not recorded in `config.yaml` or a checkpoint, where it would follow the
/// run to another machine or be checked on `--resume`.
struct ClusterOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Launch option (not a config key): under mpirun or srun, seconds a process waits for the others in one "
            + "exchange before the job is aborted with a message naming the rank that did not answer "
            + "(default: $ULMFIT_MPI_TIMEOUT, else \(Int(ClusterSession.defaultTimeout))).",
        valueName: "seconds"))
    var mpiTimeout: Double?

    func validate() throws {
        if let mpiTimeout, !(mpiTimeout > 0 && mpiTimeout.isFinite) {
            throw ValidationError("--mpi-timeout must be a positive number of seconds (got \(mpiTimeout))")
        }
    }

    /// Joins the job (MPI when a launcher started several processes, else one process) and
    /// returns it with the command's logger: rank 0 logs at the level `verbosity` asks for, the
    /// other ranks only errors (prefixed with their rank), and their standard output is silenced,
    /// so rank 0 alone prints results. Rank 0 says which transport the job uses (at info level
    /// when a launcher started it, else with --verbose).
    func join(_ verbosity: VerbosityOptions) throws -> (group: ProcessGroup, logger: Logger) {
        let group = try ClusterSession.join(timeout: mpiTimeout)
        let logger = verbosity.logger(rank: group.rank)
        if group.isPrimary {
            let launched = (ClusterSession.launch?.launcher ?? .none) != .none
            logger.log(level: launched ? .info : .debug, "transport: \(group.transport)")
        } else {
            fflush(stdout)
            _ = freopen("/dev/null", "w", stdout)
        }
        return (group, logger)
    }

    /// This process's part of the node (several processes of the job on one node share it).
    var nodeShare: NodeShare { ClusterSession.nodeShare }
}
