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

    /// A stage's sbatch script run for real, one task, with a stand-in for srun (it drops srun's
    /// options): it trains and checkpoints, and resubmitted it resumes from the checkpoint.
    @Test func slurmStageTrainsThenResumes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sbatch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let stub = directory.appendingPathComponent("bin"), genomes = directory.appendingPathComponent("data/genomes")
        try FileManager.default.createDirectory(at: stub, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: genomes, withIntermediateDirectories: true)
        try "#!/usr/bin/env bash\nwhile [[ \"$1\" == --* ]]; do shift; done\nexec \"$@\"\n"
            .write(to: stub.appendingPathComponent("srun"), atomically: true, encoding: .utf8)
        _ = try MPIJob.capture("/bin/chmod", ["+x", stub.appendingPathComponent("srun").path])
        var state: UInt64 = 7
        let bases = (0 ..< 12_000).map { _ -> Character in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Array("ACGT")[Int(state >> 33) % 4]
        }
        let fasta = genomes.appendingPathComponent("human_chr22_20-21M.fa")
        try (">chr\n" + String(bases) + "\n").write(to: fasta, atomically: true, encoding: .utf8)
        let zipped = try MPIJob.capture("/bin/gzip", [fasta.path])
        try #require(zipped.status == 0, Comment(rawValue: zipped.output))
        let environment = ["PATH": stub.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                           "ULMFIT": try MPIJob.ulmfit, "ULMFIT_ROOT": FileManager.default.currentDirectoryPath,
                           "DATA": directory.appendingPathComponent("data").path,
                           "OUT": directory.appendingPathComponent("out").path]
        let first = try MPIJob.capture("/bin/bash", ["cluster/slurm/pretrain.sbatch", "--emb", "16", "--hidden", "24",
                                                     "--layers", "2", "--batch", "8", "--bptt", "10", "--max-steps", "3",
                                                     "--workers", "1"], environment: environment)
        #expect(first.status == 0, Comment(rawValue: first.output))
        #expect(first.output.contains("trained 3 steps"), Comment(rawValue: first.output))
        let again = try MPIJob.capture("/bin/bash", ["cluster/slurm/pretrain.sbatch", "--workers", "1"], environment: environment)
        #expect(again.status == 0, Comment(rawValue: again.output))
        #expect(again.output.contains("resuming at step 3"), Comment(rawValue: again.output))
    }
}
