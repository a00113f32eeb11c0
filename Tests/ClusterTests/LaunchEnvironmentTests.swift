import Foundation
import Testing
@testable import Cluster

/// Launcher detection from the environment: no MPI library is loaded for any of these.
@Suite struct LaunchEnvironmentTests {
    @Test func aPlainRunIsOneProcess() throws {
        let launch = try LaunchEnvironment.detect(["PATH": "/usr/bin", "HOME": "/root"])
        #expect(launch == LaunchEnvironment(launcher: .none, rank: 0, size: 1))
        #expect(!launch.isMultiProcess)
        #expect(launch.description == "not started by mpirun or srun")
    }

    @Test func openMPIsMpirun() throws {
        let launch = try LaunchEnvironment.detect(["OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "4",
                                                   "OMPI_COMM_WORLD_LOCAL_RANK": "0", "PMIX_RANK": "1"])
        #expect(launch == LaunchEnvironment(launcher: .openMPI, rank: 1, size: 4, localRank: 0))
        #expect(launch.localShare(of: 16) == nil, "one process on its node keeps every core")
        #expect(launch.description == "started by mpirun (Open MPI) as rank 1 of 4")
    }

    @Test func slurmsSrunStep() throws {
        let launch = try LaunchEnvironment.detect(["SLURM_PROCID": "3", "SLURM_STEP_NUM_TASKS": "8", "SLURM_NTASKS": "8",
                                                   "SLURM_LOCALID": "1", "SLURM_JOB_ID": "77"])
        #expect(launch == LaunchEnvironment(launcher: .slurm, rank: 3, size: 8, localRank: 1))
    }

    /// The batch script itself (before srun) has the allocation's task count but is one process.
    @Test func anSbatchScriptIsNotAJobStep() throws {
        let launch = try LaunchEnvironment.detect(["SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_JOB_ID": "77"])
        #expect(launch.launcher == .none && launch.size == 1)
    }

    /// Several processes on one node: each gets a contiguous share of its cores.
    @Test func processesSharingANodeSplitItsCores() throws {
        let shares = try (0 ..< 2).map { r in
            try LaunchEnvironment.detect(["OMPI_COMM_WORLD_RANK": "\(r)", "OMPI_COMM_WORLD_SIZE": "2",
                                          "OMPI_COMM_WORLD_LOCAL_RANK": "\(r)", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"])
                .localShare(of: 7)
        }
        #expect(shares == [0 ..< 4, 4 ..< 7])
        // Slurm: "2(x3),1" is three nodes of 2 tasks and one of 1; node 3 holds one task.
        let last = try LaunchEnvironment.detect(["SLURM_PROCID": "6", "SLURM_STEP_NUM_TASKS": "7", "SLURM_LOCALID": "0",
                                                 "SLURM_NODEID": "3", "SLURM_STEP_TASKS_PER_NODE": "2(x3),1"])
        #expect(last.localSize == 1 && last.localShare(of: 8) == nil)
        let first = try LaunchEnvironment.detect(["SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "7", "SLURM_LOCALID": "1",
                                                  "SLURM_NODEID": "0", "SLURM_STEP_TASKS_PER_NODE": "2(x3),1"])
        #expect(first.localShare(of: 8) == 4 ..< 8)
        #expect(throws: (any Error).self) {
            try LaunchEnvironment.detect(["SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "2", "SLURM_NODEID": "0",
                                          "SLURM_STEP_TASKS_PER_NODE": "2(3)"])
        }
    }

    @Test func aPMILauncher() throws {
        let launch = try LaunchEnvironment.detect(["PMI_RANK": "0", "PMI_SIZE": "2"])
        #expect(launch == LaunchEnvironment(launcher: .pmi, rank: 0, size: 2))
    }

    /// Open MPI's variables win over Slurm's when mpirun runs inside an allocation.
    @Test func mpirunInsideSlurm() throws {
        let launch = try LaunchEnvironment.detect(["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2",
                                                   "SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "1"])
        #expect(launch.launcher == .openMPI && launch.size == 2)
    }

    @Test func malformedVariablesNameTheVariable() {
        #expect(throws: ClusterError.badEnvironment(variable: "OMPI_COMM_WORLD_SIZE", value: "two",
                                                    reason: "not a non-negative integer")) {
            try LaunchEnvironment.detect(["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "two"])
        }
        #expect(throws: ClusterError.badEnvironment(variable: "SLURM_PROCID", value: "5",
                                                    reason: "outside 0..<SLURM_STEP_NUM_TASKS (4)")) {
            try LaunchEnvironment.detect(["SLURM_PROCID": "5", "SLURM_STEP_NUM_TASKS": "4"])
        }
        #expect(throws: (any Error).self) { try LaunchEnvironment.detect(["PMI_SIZE": "2"]) }
    }

    @Test func timeoutsAreValidated() throws {
        #expect(try ClusterSession.parseTimeout(" 2.5 ") == 2.5)
        for bad in ["0", "-1", "soon", "inf", ""] {
            #expect(throws: ClusterError.badTimeout("'\(bad)'")) { try ClusterSession.parseTimeout(bad) }
        }
    }

    /// Started for several processes but no MPI library: a clear error naming the library and the fix.
    @Test func aMissingLibraryIsAClearError() throws {
        let launch = LaunchEnvironment(launcher: .openMPI, rank: 0, size: 2)
        do {
            _ = try MPIProcessGroup(launch: launch, library: "/nonexistent/libmpi.so.40", timeout: 10)
            Issue.record("loading a missing library succeeded")
        } catch let error as ClusterError {
            guard case .libraryNotFound(let library, _, let how) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(library == "/nonexistent/libmpi.so.40" && how == "started by mpirun (Open MPI) as rank 0 of 2")
            #expect(error.description.contains("ULMFIT_MPI_LIBRARY") && error.description.contains("openmpi-bin"))
        }
    }

    /// A library that is not Open MPI (here zlib, which every build links) is refused by name.
    @Test func aLibraryWithoutOpenMPIsSymbolsIsRefused() throws {
        let launch = LaunchEnvironment(launcher: .pmi, rank: 0, size: 2)
        #expect(throws: ClusterError.notOpenMPI(library: "libz.so.1", symbol: "ompi_mpi_comm_world")) {
            try MPIProcessGroup(launch: launch, library: "libz.so.1", timeout: 10)
        }
    }
}
