import Foundation

/// Thrown by a training run that was asked to stop (SIGINT, SIGTERM: `StopRequest`) after it
/// finished its current step and wrote a checkpoint: says where, and how to continue.
public struct RunInterrupted: Error, CustomStringConvertible, Sendable {
    /// The signal that asked for the stop (e.g. SIGTERM = 15).
    public let signal: Int32
    /// Optimizer steps taken (the checkpoint's step).
    public let step: Int
    /// The checkpoint folder written.
    public let checkpoint: String
    /// The run folder, what `--resume` takes.
    public let run: String

    /// The process exit status for this stop: 128 + the signal, as a shell reports a process
    /// the signal ended (130 for SIGINT, 143 for SIGTERM), so job schedulers see the interruption.
    public var exitStatus: Int32 { 128 + signal }

    public var description: String {
        "stopped by \(StopRequest.name(of: signal)) after step \(step); checkpoint \(checkpoint)"
    }

    /// The message a command prints: what happened and the exact command that continues the
    /// run (`executable` as the user started it, e.g. `.build/release/ulmfit`).
    public func message(executable: String, command: String) -> String {
        "\(description)\nresume with: \(executable) \(command) --resume \(Self.quoted(run))"
    }

    /// `path` as a shell word (quoted only when it needs to be).
    static func quoted(_ path: String) -> String {
        let plain = path.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "/._-+:,@%".unicodeScalars.contains($0)
        }
        return plain && !path.isEmpty ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
