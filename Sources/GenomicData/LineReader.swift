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
    ///
    /// Throws a `DataError` naming the file, the line and the byte offset when a compressed file
    /// is truncated or corrupt: `gzread` returning 0 means "no more data", not "the stream was
    /// complete", so the end is accepted only when zlib reports no error and end of file. The
    /// unfinished last line of a truncated file is never delivered. Concatenated gzip members
    /// (bgzip files) are read through to the end.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var filled = 0      // bytes in storage[0..<filled]
        var lineNumber = 0
        var decompressed = 0   // bytes gzread has handed out, for error messages
        while true {
            if filled == capacity { grow() }   // one line longer than the buffer: make room
            let want = UInt32(min(capacity - filled, Int(Int32.max)))
            let got = gzread(file, storage + filled, want)
            if got < 0 { throw streamError(line: lineNumber + 1, decompressed: decompressed) }
            if got == 0 {
                try checkCompleteEnd(line: lineNumber + 1, decompressed: decompressed)
                if filled > 0 {
                    lineNumber += 1
                    try body(trimmed(storage, filled), lineNumber)
                }
                return
            }
            decompressed += Int(got)
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

    /// After `gzread` returned 0: throws unless zlib says the input ended cleanly.
    private func checkCompleteEnd(line: Int, decompressed: Int) throws {
        var code: Int32 = Z_OK
        _ = gzerror(file, &code)
        if code == Z_BUF_ERROR {
            // zlib's code for "the input ended in the middle of a gzip stream".
            throw DataError(file: path, line: line,
                            "truncated gzip file: the compressed data ends at byte \(gzoffset(file)) before the "
                            + "end of its stream (\(decompressed) bytes decompressed); the file is incomplete "
                            + "(an interrupted download or copy?)")
        }
        if code != Z_OK { throw streamError(line: line, decompressed: decompressed) }
        guard gzeof(file) != 0 else {
            throw DataError(file: path, line: line,
                            "reading stopped at byte \(gzoffset(file)) before the end of the file "
                            + "(\(decompressed) bytes read)")
        }
    }

    /// A read error or corrupt compressed data, with zlib's reason and where it happened.
    private func streamError(line: Int, decompressed: Int) -> DataError {
        var code: Int32 = Z_OK
        var reason = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
        if reason.hasPrefix("\(path): ") { reason.removeFirst(path.count + 2) }   // zlib prefixes the path
        if code == Z_ERRNO {
            return DataError(file: path, line: line, "cannot read file: \(String(cString: strerror(errno)))")
        }
        let what = code == Z_DATA_ERROR ? "corrupt gzip data" : "cannot read file"
        return DataError(file: path, line: line,
                         "\(what) (zlib: \(reason)) near compressed byte \(gzoffset(file)), "
                         + "after \(decompressed) bytes decompressed")
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
