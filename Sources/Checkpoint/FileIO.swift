import Foundation
import OutputFiles
#if canImport(Glibc)
import Glibc
#endif

/// POSIX file operations with the durability a checkpoint needs, on top of `OutputFiles`'
/// primitives: files created exclusively, fsynced before they are renamed, folders fsynced after
/// (strictly: a checkpoint is not written until its names are durable), failures reported as
/// `CheckpointError`s with the path and the reason in words (ENOSPC as "disk full").
enum FileIO {
    /// `errno` in words, as every writer of the project says it.
    static func reason(_ code: Int32 = errno) -> String { OutputError.reason(errno: code) }

    /// Creates `path` for writing; it must not exist.
    static func create(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError(file: path, "cannot create: \(reason())") }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard OutputFile.writeAll(fd, bytes) else {
            throw CheckpointError(file: path, "write of \(bytes.count) bytes failed: \(reason())")
        }
    }

    static func sync(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw CheckpointError(file: path, "fsync failed: \(reason())") }
    }

    /// fsync of a folder: makes the names created, renamed or removed in it durable.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError(file: path, "cannot open folder to fsync: \(reason())") }
        defer { close(fd) }
        try sync(fd, path: path)
    }

    /// Writes `data` to the new file `path` and fsyncs it.
    static func writeDurably(_ data: Data, to path: String) throws {
        let fd = try create(path)
        defer { close(fd) }
        try data.withUnsafeBytes { try writeAll(fd, $0, path: path) }
        try sync(fd, path: path)
    }

    static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw CheckpointError(file: to, "cannot rename \(from) to it: \(reason())")
        }
    }

    /// Swaps two existing paths atomically (Linux `renameat2(RENAME_EXCHANGE)`); false where
    /// the file system does not support it.
    static func exchange(_ a: String, _ b: String) -> Bool {
        // RENAME_EXCHANGE = 2 (linux/fs.h). glibc (2.28+) exports renameat2, but the Glibc
        // module does not declare it (a _GNU_SOURCE function), so it is looked up by name.
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, 2) == 0
    }
}

/// A file opened for positional reads.
final class ReadOnlyFile {
    let path: String
    let size: Int
    private let fd: Int32

    init(_ path: String, missing: String = "missing") throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CheckpointError(file: path, errno == ENOENT ? missing : "cannot open: \(FileIO.reason())")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let why = FileIO.reason()
            close(fd)
            throw CheckpointError(file: path, "cannot stat: \(why)")
        }
        self.path = path
        size = Int(info.st_size)
    }

    deinit { close(fd) }

    /// Fills `buffer` from byte `offset`; throws if the file ends first.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError(file: path, "read failed at byte \(offset + done): \(FileIO.reason())")
            }
            if n == 0 {
                throw CheckpointError(file: path, "ends at byte \(offset + done), expected \(buffer.count - done) "
                    + "more bytes: truncated")
            }
            done += n
        }
    }

    func read(count: Int, at offset: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            initialized = count
        }
    }
}
