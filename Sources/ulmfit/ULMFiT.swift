import ArgumentParser

/// The `ulmfit` command line: one subcommand per stage of the pipeline and per tool.
@main
struct ULMFiT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ulmfit",
        abstract: "Genomic ULMFiT: data-parallel AWD-LSTM training on many-core CPUs.",
        subcommands: [
            TokenizeCommand.self,
            PrepareCommand.self,
            VocabCommand.self,
            TrainLMCommand.self,
            TopologyCommand.self,
            BenchCommand.self,
        ])
}
