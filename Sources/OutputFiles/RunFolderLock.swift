import Foundation

/// The one writer of a run folder: an advisory `flock(2)` on `RUN/.ulmfit.lock`, which holds
/// the writer's process id for the message a second writer gets.
///
/// Two processes writing one run folder (two `--overwrite` runs, two `--resume` of one run)
/// interleave their logs and checkpoints into a run that is neither. The kernel releases the
/// lock when its holder ends in any way (exit, crash, `kill -9`), so a dead run never leaves a
/// stale lock behind; the file itself stays and is reused.
public final class RunFolderLock: @unchecked Sendable {
    /// Another process holds the folder.
    public struct Held: Error, CustomStringConvertible, Equatable, Sendable {
        public let folder: String
        /// The holder's process id, when it had written it.
        public let pid: Int32?

        public var description: String {
            "\(folder) is being written by another ulmfit process (\(pid.map { "pid \($0)" } ?? "pid unknown")): "
                + "one run folder has one writer; wait for it to end, stop it, or choose another folder"
        }
    }

    /// The lock file's name inside the run folder.
    public static let fileName = ".ulmfit.lock"

    public let folder: String
    private var descriptor: Int32

    /// Takes the lock of the existing folder `folder`, without waiting.
    /// - Throws: `Held` naming the holder's pid when another process holds it; `OutputError`
    ///   when the lock file cannot be created.
    public init(folder: String) throws {
        self.folder = folder
        let path = (folder as NSString).appendingPathComponent(Self.fileName)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw OutputError(path: path, wanted: "the run folder's lock", errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            // The holder writes its pid right after taking the lock: give it a moment to.
            var pid: Int32?
            for _ in 0 ..< 20 {
                pid = Self.readPid(fd)
                if pid != nil { break }
                usleep(10_000)
            }
            close(fd)
            if code == EWOULDBLOCK { throw Held(folder: folder, pid: pid) }
            throw OutputError(path: path, wanted: "the run folder's lock", errno: code)
        }
        descriptor = fd
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Gives the folder up (also done when this value goes away, or by the kernel at exit).
    public func release() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    private static func readPid(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0 ..< count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
