import ArgumentParser
import Logging

/// `--verbose` / `--quiet`, on every command.
struct VerbosityOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Also print details: resolved settings, BLAS, worker layout, memory estimate.")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Print only warnings, errors and the command's results (no progress).")
    var quiet = false

    func validate() throws {
        if verbose && quiet { throw ValidationError("--verbose and --quiet contradict each other: give one") }
    }

    /// The command's logger, at the level these flags ask for.
    var logger: Logger {
        var logger = Logger(label: "ulmfit")
        logger.logLevel = verbose ? .debug : quiet ? .warning : .info
        return logger
    }
}
