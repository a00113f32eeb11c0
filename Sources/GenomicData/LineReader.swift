import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a plain or gzip-compressed text file line by line, in large byte chunks.
///
/// zlib's `gzread` reads uncompressed files transparently, so one code path serves `.fa` and
/// `.fa.gz`. Lines are handed out as byte buffers that are only valid inside the callback: a
/// multi-gigabyte genome is never held in memory as a whole, and no `String` is made per line.
final class LineReader {
    let path: String
    private let file: gzFile
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int

    /// Opens `path`; throws a `DataError` naming the file when it is missing or unreadable.
    init(path: String, chunkSize: Int = 1 << 22) throws {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DataError(file: path, "cannot open file: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) != S_IFDIR else {
            throw DataError(file: path, "is a directory, expected a file")
        }
        guard let handle = gzopen(path, "rb") else {
            throw DataError(file: path, "cannot open file: \(String(cString: strerror(errno)))")
        }
        file = handle
        // Larger internal buffer for zlib: fewer, bigger reads.
        gzbuffer(handle, 1 << 20)
        capacity = max(chunkSize, 16)
        storage = .allocate(capacity: capacity)
    }

    deinit {
        gzclose(file)
        storage.deallocate()
    }

    /// Calls `body` with each line (without its `\n` and without a trailing `\r`) and the
    /// line's 1-based number. A final line without a newline is delivered too.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var filled = 0      // bytes in storage[0..<filled]
        var lineNumber = 0
        while true {
            if filled == capacity { grow() }   // one line longer than the buffer: make room
            let want = UInt32(min(capacity - filled, Int(Int32.max)))
            let got = gzread(file, storage + filled, want)
            if got < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
                throw DataError(file: path, line: lineNumber + 1, "cannot read file: \(message)")
            }
            if got == 0 {
                if filled > 0 {
                    lineNumber += 1
                    try body(trimmed(storage, filled), lineNumber)
                }
                return
            }
            let end = filled + Int(got)
            var start = 0
            while start < end,
                  let hit = memchr(storage + start, Int32(UInt8(ascii: "\n")), end - start) {
                let newline = storage.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                lineNumber += 1
                try body(trimmed(storage + start, newline - start), lineNumber)
                start = newline + 1
            }
            // Keep the unfinished line for the next read.
            filled = end - start
            if start > 0 && filled > 0 { memmove(storage, storage + start, filled) }
        }
    }

    private func trimmed(_ base: UnsafeMutablePointer<UInt8>, _ count: Int) -> UnsafeBufferPointer<UInt8> {
        var n = count
        if n > 0 && base[n - 1] == UInt8(ascii: "\r") { n -= 1 }   // Windows line endings
        return UnsafeBufferPointer(start: base, count: n)
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        bigger.update(from: storage, count: capacity)
        storage.deallocate()
        storage = bigger
        capacity *= 2
    }
}
