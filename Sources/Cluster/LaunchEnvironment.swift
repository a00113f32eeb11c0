import Foundation
import Parallel

/// How this process was started: alone, or as one rank of a job started by an MPI launcher.
///
/// Read from the variables launchers put in each process's environment, before any MPI library
/// is loaded, so that a plain run never touches MPI:
/// - Open MPI's `mpirun`: `OMPI_COMM_WORLD_RANK`, `OMPI_COMM_WORLD_SIZE`, `OMPI_COMM_WORLD_LOCAL_RANK`;
/// - Slurm's `srun`: `SLURM_PROCID`, `SLURM_STEP_NUM_TASKS`, `SLURM_LOCALID`. Only a job step
///   started by srun has `SLURM_STEP_NUM_TASKS`; an sbatch script itself has `SLURM_NTASKS` (the
///   whole allocation) and `SLURM_PROCID=0` but is one process, so those alone mean nothing;
/// - a PMI launcher (MPICH's Hydra `mpiexec`, Intel MPI): `PMI_RANK`, `PMI_SIZE`.
///
/// Also the processes on this node (`OMPI_COMM_WORLD_LOCAL_SIZE`; Slurm's
/// `SLURM_STEP_TASKS_PER_NODE` at `SLURM_NODEID`; Hydra's `MPI_LOCALNRANKS`), so that several
/// processes on one node can share its cores instead of each pinning workers on all of them.
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
    /// Processes on this node, when the launcher says.
    public let localSize: Int?

    public init(launcher: Launcher, rank: Int, size: Int, localRank: Int? = nil, localSize: Int? = nil) {
        self.launcher = launcher
        self.rank = rank
        self.size = size
        self.localRank = localRank
        self.localSize = localSize
    }

    /// The part of its node this process's workers use: local rank L of S takes the L-th of S
    /// near-equal shares when the launcher put several processes there, else the whole node.
    public var nodeShare: NodeShare {
        guard let localRank, let localSize, localSize > 1, localRank < localSize else { return .whole }
        return NodeShare(index: localRank, count: localSize)
    }

    /// This process's contiguous share of `count` units of its node when the launcher put several
    /// processes there (local rank L of S gets the L-th of S near-equal parts), else nil.
    public func localShare(of count: Int) -> Range<Int>? { nodeShare.units(of: count) }

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
        let candidates: [(Launcher, rank: String, size: String, local: String, localSize: String)] = [
            (.openMPI, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
             "OMPI_COMM_WORLD_LOCAL_SIZE"),
            (.slurm, "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", "SLURM_STEP_TASKS_PER_NODE"),
            (.pmi, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
        ]
        for (launcher, rankName, sizeName, localName, localSizeName) in candidates {
            guard let size = try number(sizeName) else { continue }
            guard let rank = try number(rankName) else {
                throw ClusterError.badEnvironment(variable: rankName, value: "(unset)",
                                                  reason: "\(sizeName)=\(size) is set but the rank is not")
            }
            guard size >= 1, rank < size else {
                throw ClusterError.badEnvironment(variable: rankName, value: "\(rank)",
                                                  reason: "outside 0..<\(sizeName) (\(size))")
            }
            let localSize = launcher == .slurm
                ? try slurmTasksOnThisNode(environment[localSizeName], node: number("SLURM_NODEID"), variable: localSizeName)
                : try number(localSizeName)
            return LaunchEnvironment(launcher: launcher, rank: rank, size: size, localRank: try number(localName),
                                     localSize: localSize)
        }
        return LaunchEnvironment(launcher: .none, rank: 0, size: 1)
    }

    /// Slurm's tasks per node, e.g. `2(x3),1` (three nodes with 2 tasks, then one with 1), at
    /// node `node` of the step.
    static func slurmTasksOnThisNode(_ text: String?, node: Int?, variable: String) throws -> Int? {
        guard let text, let node else { return nil }
        var counts: [Int] = []
        for group in text.split(separator: ",") {
            let parts = group.split(separator: "(")
            let bad = ClusterError.badEnvironment(variable: variable, value: text, reason: "expected e.g. 2(x3),1")
            guard let tasks = Int(parts[0]) else { throw bad }
            var repeats = 1
            if parts.count == 2 {
                guard parts[1].hasPrefix("x"), parts[1].hasSuffix(")"), let r = Int(parts[1].dropFirst().dropLast()) else {
                    throw bad
                }
                repeats = r
            }
            counts += [Int](repeating: tasks, count: repeats)
        }
        return node < counts.count ? counts[node] : nil
    }
}
