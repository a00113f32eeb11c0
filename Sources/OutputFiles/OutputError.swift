import Foundation

/// A result that could not be written: which path, what it was for, and why, in words
/// (e.g. `cannot write the metrics log runs/x/metrics.jsonl: disk full (no space left on device)`).
public struct OutputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path that could not be created or written (a parent of the target when the parent is at fault).
    public let path: String
    /// What was wanted there, e.g. "the results folder" or "the vocabulary".
    public let wanted: String
    /// Why it failed, e.g. "disk full (no space left on device)" or "is a file, not a folder".
    public let reason: String

    public init(path: String, wanted: String, reason: String) {
        self.path = path
        self.wanted = wanted
        self.reason = reason
    }

    /// `errno` of a failed system call, in words a user can act on.
    public init(path: String, wanted: String, errno code: Int32) {
        self.init(path: path, wanted: wanted, reason: Self.reason(errno: code))
    }

    public var description: String { "cannot write \(wanted) at \(path): \(reason)" }

    /// The cause of an `errno`, led by what it means for a writer (strerror's words follow).
    public static func reason(errno code: Int32) -> String {
        let system = String(cString: strerror(code)).lowercased()
        switch code {
        case ENOSPC: return "disk full (\(system))"
        case EDQUOT: return "disk quota exceeded (\(system))"
        case EACCES, EPERM: return "not allowed to write there (\(system))"
        case EROFS: return "the file system is read-only"
        case ENOTDIR: return "a part of the path is a file, not a folder"
        case EISDIR: return "is a folder, not a file"
        case ENAMETOOLONG: return "the name is too long"
        case EIO: return "input/output error on the device"
        default: return system
        }
    }
}
