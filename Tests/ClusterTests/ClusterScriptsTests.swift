import Foundation
import Testing

/// The launch recipes in cluster/: valid bash, the binding flags that keep the launcher's
/// placement from fighting ulmfit's own, and the mpirun recipe run for real on this machine.
/// (Tests run from the package root, as `swift test` does.)
@Suite struct ClusterScriptsTests {
    static let scripts = ["cluster/env.sh", "cluster/per-numa.sh", "cluster/mpirun/run.sh", "cluster/slurm/pipeline.sh",
                          "cluster/slurm/prepare.sbatch", "cluster/slurm/pretrain.sbatch",
                          "cluster/slurm/finetune.sbatch", "cluster/slurm/classifier.sbatch"]
    static let multiNode = ["pretrain", "finetune", "classifier"].map { "cluster/slurm/\($0).sbatch" }

    @Test func everyScriptParses() throws {
        let listed = try FileManager.default.subpathsOfDirectory(atPath: "cluster")
            .filter { $0.hasSuffix(".sh") || $0.hasSuffix(".sbatch") }.map { "cluster/" + $0 }
        #expect(Set(listed) == Set(Self.scripts), "a script in cluster/ is missing from this test's list")
        for script in Self.scripts {
            let (status, output) = try MPIJob.capture("/bin/bash", ["-n", script])
            #expect(status == 0, "bash -n \(script): \(output)")
        }
    }

    /// One task per node with every core, no CPU binding by Slurm, a failed rank ends the step.
    @Test func slurmStagesLeaveThreadPlacementToUlmfit() throws {
        for script in Self.multiNode {
            let text = try String(contentsOfFile: script, encoding: .utf8)
            for required in ["#SBATCH --ntasks-per-node=1", "#SBATCH --cpus-per-task=", "srun --cpu-bind=none",
                             "--kill-on-bad-exit=1", "cluster/env.sh"] {
                #expect(text.contains(required), "\(script) lacks \(required)")
            }
        }
    }

    @Test func mpirunRecipeMapsOneProcessPerNodeUnbound() throws {
        let text = try String(contentsOfFile: "cluster/mpirun/run.sh", encoding: .utf8)
        #expect(text.contains("--map-by ppr:1:node") && text.contains("--bind-to none"))
    }

    /// The mpirun recipe on a one-node hostfile (this machine): one ulmfit process, started by
    /// mpirun, which says so. Root may run mpirun through Open MPI's two environment switches.
    @Test(.enabled(if: MPIJob.enabled, MPIJob.skipReason))
    func mpirunRecipeRunsHere() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hosts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let hostfile = directory.appendingPathComponent("hostfile").path
        try "# this machine\nlocalhost slots=1\n".write(toFile: hostfile, atomically: true, encoding: .utf8)
        let (status, output) = try MPIJob.capture("/bin/bash", ["cluster/mpirun/run.sh", hostfile, "bench", "allreduce", "--count", "10"],
            environment: ["ULMFIT": try MPIJob.ulmfit, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                          "OMPI_MCA_btl_vader_single_copy_mechanism": "none"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("transport: shared memory only (1 process, started by mpirun (Open MPI) as rank 0 of 1)"),
                "\(output)")
    }

    /// per-numa.sh gives the process with local rank L the NUMA node L (this machine has node 0).
    @Test func perNumaWrapperConfinesTheWorkers() throws {
        let (status, output) = try MPIJob.capture("/bin/bash", ["cluster/per-numa.sh", "topology", "--workers", "1"],
                                                  environment: ["ULMFIT": try MPIJob.ulmfit, "SLURM_LOCALID": "0"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("numa:0"), "\(output)")
    }
}
