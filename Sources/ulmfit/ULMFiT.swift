import ArgumentParser
import Foundation
import Logging

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
            TrainClassifierCommand.self, EvaluateCommand.self, PredictCommand.self, ScanCommand.self, ExportCommand.self,
            RunCommand.self,
            TopologyCommand.self,
            BenchCommand.self,
        ])

    /// Line-buffered stdout, so progress (stderr) and results (stdout) interleave in order
    /// when both go to one log file.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        LoggingSystem.bootstrap { _ in ConsoleLogHandler() }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
