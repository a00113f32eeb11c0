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

    /// `spec` for this process when the launcher put several processes on this node and `spec`
    /// names no units: local rank L of S takes the L-th of S contiguous shares of the node's units
    /// (cores by default), so the processes do not pin their workers on the same cores. Left
    /// alone when `--cpus` is given, or when the launcher already confined this process to part of
    /// the node (srun --cpu-bind=cores, mpirun --bind-to socket: its binding is not every PU).
    static func sharingTheNode(_ spec: LayoutSpec, topology: Topology) -> LayoutSpec {
        let unit = spec.unit ?? .core
        guard spec.cpus == nil, let share = ClusterSession.launch?.localShare(of: topology.unitCount(unit)),
              Set(ThreadBinding.currentBinding(topology: topology)).isSuperset(of: topology.pus.map(\.osIndex)) else {
            return spec
        }
        var shared = spec
        shared.cpus = "\(unit.rawValue):\(share.lowerBound)-\(share.upperBound - 1)"
        return shared
    }
}
