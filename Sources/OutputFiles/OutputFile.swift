import Foundation

/// Every file a run writes goes through here, so that every output problem (a file where a
/// folder is wanted, a place one may not write to, a full disk) is an `OutputError` naming the
/// path, what it was for and why, never a raw Foundation error.
///
/// Written with POSIX calls rather than `Data.write`: they give the exact `errno` (Foundation
/// folds ENOSPC, EACCES, ... into a few Cocoa codes) and let a complete file be made durable
/// (`fsync`) before it replaces the old one.
public enum OutputFile {
    /// Creates the folder `path` and any missing parents (like `mkdir -p`).
    /// - Parameter wanted: what the folder is for, e.g. "the results folder".
    public static func makeDirectory(_ path: String, wanted: String = "the results folder") throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            if isDirectory(prefix) { continue }
            if exists(prefix) {
                throw OutputError(path: path, wanted: wanted, reason: prefix == path
                    ? "is a file, not a folder" : "\(prefix) is a file, not a folder")
            }
            if mkdir(prefix, 0o777) != 0 && !(errno == EEXIST && isDirectory(prefix)) {
                throw OutputError(path: path, wanted: wanted, errno: errno)
            }
        }
    }

    /// Checks, leaving nothing behind, that `path` is a folder one can write into or could be
    /// created as one: every existing part of it is a folder, and the deepest existing one takes a
    /// new entry (tried for real, then removed: permission bits say nothing for root, a read-only
    /// mount or /sys). A full disk shows only when the run writes. The probe has a name of its
    /// own, so that processes checking the same path at once (the ranks of an MPI job) do not
    /// see each other's probe.
    public static func checkCanCreateDirectory(_ path: String, wanted: String = "the results folder") throws {
        var existing = path
        while !exists(existing) {
            let parent = PathParent.of(existing)
            if parent == existing || parent.isEmpty { existing = "."; break }
            existing = parent
        }
        guard isDirectory(existing) else {
            throw OutputError(path: path, wanted: wanted, reason: existing == path
                ? "is a file, not a folder" : "\(existing) is a file, not a folder")
        }
        let probe = existing + "/.ulmfit-probe-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw OutputError(path: path, wanted: wanted, errno: errno) }
        close(fd)
        unlink(probe)
    }

    /// Replaces `path` with `data` atomically: written to a temporary file in the same folder,
    /// flushed to disk, then renamed over `path` (the folder is created if missing). A reader never
    /// sees a partial file, and a crash or a full disk leaves the previous file as it was; the
    /// temporary file a killed writer left behind is removed by the next write of `path`.
    public static func write(_ data: Data, to path: String, wanted: String) throws {
        let folder = PathParent.of(path)
        if !folder.isEmpty { try makeDirectory(folder, wanted: "the folder of \(wanted)") }
        let name = (path as NSString).lastPathComponent
        removeStalePartials(of: name, in: folder.isEmpty ? "." : folder)
        let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).partial-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw OutputError(path: path, wanted: wanted, errno: errno) }
        var failure: Int32 = 0
        if !writeAll(fd, data) || fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            throw OutputError(path: path, wanted: wanted, errno: failure)
        }
        syncDirectory(folder.isEmpty ? "." : folder)
    }

    /// `write(_:to:wanted:)` for UTF-8 text.
    public static func write(_ text: String, to path: String, wanted: String) throws {
        try write(Data(text.utf8), to: path, wanted: wanted)
    }

    /// Creates (or truncates) `path` for a log that grows line by line (the folder is created if missing).
    public static func createLog(_ path: String, wanted: String) throws -> AppendingFile {
        let folder = PathParent.of(path)
        if !folder.isEmpty { try makeDirectory(folder, wanted: "the folder of \(wanted)") }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw OutputError(path: path, wanted: wanted, errno: errno) }
        return AppendingFile(fd: fd, path: path, wanted: wanted)
    }

    /// Reopens the log `path` to continue it: keeps its first `bytes` bytes, drops the rest, and
    /// appends after them (a missing file starts empty; the folder is created if missing).
    public static func continueLog(_ path: String, keepingBytes bytes: Int, wanted: String) throws -> AppendingFile {
        let folder = PathParent.of(path)
        if !folder.isEmpty { try makeDirectory(folder, wanted: "the folder of \(wanted)") }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw OutputError(path: path, wanted: wanted, errno: errno) }
        guard ftruncate(fd, off_t(bytes)) == 0, lseek(fd, 0, SEEK_END) >= 0 else {
            let code = errno
            close(fd)
            throw OutputError(path: path, wanted: wanted, errno: code)
        }
        return AppendingFile(fd: fd, path: path, wanted: wanted)
    }

    static func exists(_ path: String) -> Bool {
        var s = stat()
        return lstat(path, &s) == 0
    }

    /// Whether `path` is a folder (following links).
    public static func isDirectory(_ path: String) -> Bool {
        var s = stat()
        return stat(path, &s) == 0 && (s.st_mode & S_IFMT) == S_IFDIR
    }

    /// Writes every byte, retrying short writes and interrupted calls; false with `errno` set on failure.
    static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// Writes every byte of `bytes` to `fd`, retrying short writes and interrupted calls;
    /// false with `errno` set on failure.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Removes `.NAME.partial-PID-*` files in `folder` whose writer process is gone (killed
    /// between creating its temporary file and renaming it).
    static func removeStalePartials(of name: String, in folder: String) {
        let prefix = ".\(name).partial-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let pid = entry.dropFirst(prefix.count).split(separator: "-").first.flatMap { pid_t($0) }
            if let pid, pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                unlink(folder + "/" + entry)
            }
        }
    }

    /// Makes a rename in `folder` durable (best effort: some file systems refuse fsync on folders).
    private static func syncDirectory(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
