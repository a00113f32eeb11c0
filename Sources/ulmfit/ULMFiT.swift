import ArgumentParser
import Cluster
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
            ClusterSession.finish()   // under mpirun/srun: every rank checks in, then MPI ends
        } catch let code as ExitCode {
            exit(withError: code)   // a deliberate status (e.g. a stopped run, which ended the job itself)
        } catch {
            // Under mpirun/srun the other ranks would wait for this one until the timeout: end them now.
            ClusterSession.abortIfMultiProcess(message: fullMessage(for: error))
            exit(withError: error)
        }
    }
}
