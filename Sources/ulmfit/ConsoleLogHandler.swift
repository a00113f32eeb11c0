import ArgumentParser
import Foundation
import Logging

/// Log lines for people at a terminal: the message alone on standard error (warnings and errors
/// prefixed), so that standard output holds only a command's results. The level is set per
/// command from `--verbose` / `--quiet`.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix: String
        switch event.level {
        case .warning: prefix = "warning: "
        case .error, .critical: prefix = "error: "
        default: prefix = ""
        }
        FileHandle.standardError.write(Data((prefix + event.message.description + "\n").utf8))
    }
}

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
