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
