import ArgumentParser
import Foundation
import Logging

/// Log lines for people at a terminal: the message alone on standard error (warnings and errors
/// prefixed), so that standard output holds only a command's results. The level is set per
/// command from `--verbose` / `--quiet`. A logger with a `rank` (a process of a multi-process job
/// other than rank 0) prefixes its lines with it.
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
        let rank = (event.metadata?["rank"] ?? metadata["rank"]).map { "rank \($0): " } ?? ""
        FileHandle.standardError.write(Data((rank + prefix + event.message.description + "\n").utf8))
    }
}
