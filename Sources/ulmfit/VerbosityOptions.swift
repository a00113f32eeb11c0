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
    var logger: Logger { logger(rank: 0) }

    /// The logger of process `rank` of a job (mpirun, srun): rank 0 logs at the level these flags
    /// ask for; the others log errors only, prefixed with their rank (rank 0 speaks for the job).
    func logger(rank: Int) -> Logger {
        var logger = Logger(label: "ulmfit")
        logger.logLevel = verbose ? .debug : quiet ? .warning : .info
        if rank != 0 {
            logger.logLevel = .error
            logger[metadataKey: "rank"] = "\(rank)"
        }
        return logger
    }
}
