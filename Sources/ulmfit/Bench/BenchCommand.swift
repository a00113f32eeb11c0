import ArgumentParser

/// `ulmfit bench`: measurements of the machine and of the trainer's hot paths.
///
/// Each benchmark is a subcommand; to add one, write a `ParsableCommand` in its own file
/// and append it to `subcommands` below. Results are stated as a fraction of the FMA peak
/// measured in the same run, because hosts of one kind differ in clock.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: FMA peak, GEMM backends, training step, scaling over worker counts.",
        subcommands: [
            BenchPeakCommand.self,
            BenchGemmCommand.self,
            BenchStepCommand.self,
            BenchScalingCommand.self,
        ])
}
