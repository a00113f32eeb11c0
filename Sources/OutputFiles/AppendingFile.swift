import Foundation

/// A file written line by line (metrics logs): every `append` reaches the file before it returns,
/// so a crash loses nothing already appended; a failed write is an `OutputError`.
public final class AppendingFile {
    public let path: String
    private let wanted: String
    private var fd: Int32

    init(fd: Int32, path: String, wanted: String) {
        self.fd = fd
        self.path = path
        self.wanted = wanted
    }

    deinit { if fd >= 0 { Foundation.close(fd) } }

    /// Appends `text` (UTF-8).
    public func append(_ text: String) throws {
        guard OutputFile.writeAll(fd, Data(text.utf8)) else {
            throw OutputError(path: path, wanted: wanted, errno: errno)
        }
    }
}
