import Testing
@testable import ulmfit

/// `--mpi-timeout`, the one multi-process option: checked when parsed, and a launch option that
/// no config file or resolved config carries.
@Suite struct ClusterOptionsTests {
    @Test(arguments: ["0", "-5", "inf", "nan"])
    func aTimeoutMustBeAPositiveNumberOfSeconds(value: String) {
        do {
            _ = try TrainLMCommand.parse(["--fasta", "g.fa", "--mpi-timeout", value])
            Issue.record("--mpi-timeout \(value) was accepted")
        } catch {
            #expect(TrainLMCommand.message(for: error).hasPrefix("--mpi-timeout must be a positive number of seconds"),
                    "\(TrainLMCommand.message(for: error))")
        }
    }

    @Test func theTimeoutIsALaunchOptionOnEveryMultiProcessCommand() throws {
        #expect(try TrainLMCommand.parse(["--mpi-timeout", "30"]).cluster.mpiTimeout == 30)
        #expect(try TrainClassifierCommand.parse(["--mpi-timeout", "30"]).cluster.mpiTimeout == 30)
        #expect(try BenchStepCommand.parse(["--mpi-timeout", "30"]).cluster.mpiTimeout == 30)
        #expect(try BenchAllReduceCommand.parse(["--mpi-timeout", "30"]).cluster.mpiTimeout == 30)
        #expect(TrainLMCommand.helpMessage().contains("Launch option (not a config key)"))
        // Not an override of any config key: nothing of it reaches config.yaml or a checkpoint.
        let lm = try TrainLMCommand.parse(["--mpi-timeout", "30"])
        #expect(lm.overrides.compactMap { $0 }.isEmpty)
    }
}
