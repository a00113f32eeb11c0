import Foundation

/// How this process was started: alone, or as one rank of a job started by an MPI launcher.
///
/// Read from the variables launchers put in each process's environment, before any MPI library
/// is loaded, so that a plain run never touches MPI:
/// - Open MPI's `mpirun`: `OMPI_COMM_WORLD_RANK`, `OMPI_COMM_WORLD_SIZE`, `OMPI_COMM_WORLD_LOCAL_RANK`;
/// - Slurm's `srun`: `SLURM_PROCID`, `SLURM_STEP_NUM_TASKS`, `SLURM_LOCALID`. Only a job step
///   started by srun has `SLURM_STEP_NUM_TASKS`; an sbatch script itself has `SLURM_NTASKS` (the
///   whole allocation) and `SLURM_PROCID=0` but is one process, so those alone mean nothing;
/// - a PMI launcher (MPICH's Hydra `mpiexec`, Intel MPI): `PMI_RANK`, `PMI_SIZE`.
public struct LaunchEnvironment: Sendable, Equatable, CustomStringConvertible {
    public enum Launcher: String, Sendable {
        case none
        case openMPI = "mpirun (Open MPI)"
        case slurm = "srun (Slurm)"
        case pmi = "a PMI launcher (MPICH/Hydra)"
    }

    public let launcher: Launcher
    /// This process's rank, 0..<size.
    public let rank: Int
    /// Processes in the job.
    public let size: Int
    /// Rank among the processes on this node, when the launcher says.
    public let localRank: Int?

    public init(launcher: Launcher, rank: Int, size: Int, localRank: Int? = nil) {
        self.launcher = launcher
        self.rank = rank
        self.size = size
        self.localRank = localRank
    }

    /// More than one process: the job needs a transport between them.
    public var isMultiProcess: Bool { size > 1 }

    public var description: String {
        launcher == .none ? "not started by mpirun or srun"
            : "started by \(launcher.rawValue) as rank \(rank) of \(size)"
    }

    /// The launch this environment describes.
    /// - Throws: `ClusterError.badEnvironment` when a launcher's variables are present but
    ///   malformed (e.g. a rank outside 0..<size), naming the variable.
    public static func detect(_ environment: [String: String]) throws -> LaunchEnvironment {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw ClusterError.badEnvironment(variable: name, value: text, reason: "not a non-negative integer")
            }
            return value
        }
        let candidates: [(Launcher, rank: String, size: String, local: String)] = [
            (.openMPI, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
            (.slurm, "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID"),
            (.pmi, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"),
        ]
        for (launcher, rankName, sizeName, localName) in candidates {
            guard let size = try number(sizeName) else { continue }
            guard let rank = try number(rankName) else {
                throw ClusterError.badEnvironment(variable: rankName, value: "(unset)",
                                                  reason: "\(sizeName)=\(size) is set but the rank is not")
            }
            guard size >= 1, rank < size else {
                throw ClusterError.badEnvironment(variable: rankName, value: "\(rank)",
                                                  reason: "outside 0..<\(sizeName) (\(size))")
            }
            return LaunchEnvironment(launcher: launcher, rank: rank, size: size, localRank: try number(localName))
        }
        return LaunchEnvironment(launcher: .none, rank: 0, size: 1)
    }
}
