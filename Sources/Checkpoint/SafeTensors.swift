import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The element types this trainer writes into safetensors files.
public enum SafeTensorsDType: String, Codable, Sendable, CaseIterable {
    case f32 = "F32"
    case i64 = "I64"

    public var byteSize: Int { 4 + (self == .i64 ? 4 : 0) }
}

/// One tensor of a safetensors file, as its header declares it.
public struct SafeTensorsEntry: Codable, Equatable, Sendable {
    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]

    public init(name: String, dtype: SafeTensorsDType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    /// Bytes of data, nil when the shape is negative or the size overflows.
    public var byteCount: Int? {
        var n = dtype.byteSize
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }
}

/// The safetensors container (the format of Hugging Face's `safetensors`): an 8-byte
/// little-endian header length N, N bytes of JSON header (`{"name": {"dtype": "F32", "shape":
/// [...], "data_offsets": [begin, end]}, ..., "__metadata__": {string: string}}`), then the raw
/// little-endian data, offsets relative to its start.
///
/// Written by hand because no Swift package reads or writes it; the format is the short one
/// above. Like the reference implementation, tensors are laid out in order without gaps, the
/// data ends where the file ends, and the header is padded with spaces to a multiple of 8 bytes
/// so every tensor starts 8-byte aligned.
public enum SafeTensors {
    /// Largest header accepted (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    /// A parsed header: each tensor with its byte range in the file.
    public struct Layout: Sendable {
        public var entries: [SafeTensorsEntry]
        /// Absolute byte ranges in the file, in `entries` order.
        public var ranges: [Range<Int>]
        public var metadata: [String: String]
        public var fileSize: Int

        public func index(of name: String) -> Int? { entries.firstIndex { $0.name == name } }
    }

    /// The header bytes (length prefix included) for `entries` in order, and the file size.
    public static func header(_ entries: [SafeTensorsEntry], metadata: [String: String] = [:]) throws
        -> (bytes: Data, fileSize: Int) {
        var object: [String: JSONValue] = [:]
        var offset = 0
        for entry in entries {
            guard let size = entry.byteCount else {
                throw CheckpointError(file: "(safetensors header)", field: entry.name, "invalid shape \(entry.shape)")
            }
            guard object[entry.name] == nil, entry.name != "__metadata__" else {
                throw CheckpointError(file: "(safetensors header)", field: entry.name, "duplicate or reserved tensor name")
            }
            object[entry.name] = .object(["dtype": .string(entry.dtype.rawValue),
                                          "shape": .array(entry.shape.map { .int(Int64($0)) }),
                                          "data_offsets": .array([.int(Int64(offset)), .int(Int64(offset + size))])])
            offset += size
        }
        if !metadata.isEmpty { object["__metadata__"] = .object(metadata.mapValues { .string($0) }) }
        var json = Data(JSONValue.object(object).text.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var bytes = Data(count: 8)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.replaceSubrange(0 ..< 8, with: $0) }
        bytes.append(json)
        return (bytes, bytes.count + offset)
    }

    /// Parses and checks the header of `file`: the length, the JSON, every entry's dtype,
    /// shape and offsets, and that the tensors tile the data exactly. Errors name the file and
    /// the tensor or field at fault.
    static func layout(of file: ReadOnlyFile) throws -> Layout {
        let path = file.path
        guard file.size >= 8 else {
            throw CheckpointError(file: path, "has \(file.size) bytes, fewer than the 8-byte header length: truncated")
        }
        let prefix = try file.read(count: 8, at: 0)
        let length = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length >= 2, length <= UInt64(maxHeaderBytes) else {
            throw CheckpointError(file: path, field: "header length", "is \(length) bytes (not a safetensors file?)")
        }
        guard Int(length) <= file.size - 8 else {
            throw CheckpointError(file: path, field: "header length", "says \(length) bytes but the file has only "
                + "\(file.size - 8) after it: truncated")
        }
        let json = try file.read(count: Int(length), at: 8)
        return try parse(header: json, dataStart: 8 + Int(length), fileSize: file.size, file: path)
    }

    /// Parses header JSON bytes whose data starts at `dataStart` in a file of `fileSize` bytes.
    static func parse(header json: [UInt8], dataStart: Int, fileSize: Int, file path: String) throws -> Layout {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(json))
        } catch {
            throw CheckpointError(file: path, field: "header", "is not valid JSON")
        }
        guard case let .object(members) = value else {
            throw CheckpointError(file: path, field: "header", "is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var found: [(entry: SafeTensorsEntry, begin: Int, end: Int)] = []
        for (name, member) in members {
            if name == "__metadata__" {
                guard case let .object(pairs) = member else {
                    throw CheckpointError(file: path, field: "__metadata__", "is not an object of strings")
                }
                for (key, v) in pairs {
                    guard let s = v.stringValue else {
                        throw CheckpointError(file: path, field: "__metadata__.\(key)", "is not a string")
                    }
                    metadata[key] = s
                }
                continue
            }
            guard let dtypeName = member["dtype"]?.stringValue else {
                throw CheckpointError(file: path, field: "\(name).dtype", "missing or not a string")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw CheckpointError(file: path, field: "\(name).dtype", "is \"\(dtypeName)\"; this build reads "
                    + SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard case let .array(dims)? = member["shape"] else {
                throw CheckpointError(file: path, field: "\(name).shape", "missing or not a list")
            }
            let shape = dims.compactMap(\.intValue)
            guard shape.count == dims.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw CheckpointError(file: path, field: "\(name).shape", "is not a list of non-negative integers")
            }
            guard case let .array(offsets)? = member["data_offsets"], offsets.count == 2,
                  let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= begin else {
                throw CheckpointError(file: path, field: "\(name).data_offsets", "missing or not [begin, end] with 0 <= begin <= end")
            }
            let entry = SafeTensorsEntry(name: name, dtype: dtype, shape: shape)
            guard let size = entry.byteCount, size == end - begin else {
                throw CheckpointError(file: path, field: "\(name).data_offsets", "span \(end - begin) bytes, but "
                    + "\(dtypeName) \(shape) needs \(entry.byteCount.map(String.init) ?? "an impossible size")")
            }
            found.append((entry, begin, end))
        }
        found.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        for t in found {
            guard t.begin == position else {
                throw CheckpointError(file: path, field: "\(t.entry.name).data_offsets", t.begin < position
                    ? "overlaps the previous tensor" : "leaves a gap of \(t.begin - position) bytes before it")
            }
            position = t.end
        }
        guard dataStart + position == fileSize else {
            let message = dataStart + position > fileSize
                ? "the header needs \(dataStart + position) bytes, the file has \(fileSize): truncated"
                : "has \(fileSize - dataStart - position) bytes after the last tensor"
            throw CheckpointError(file: path, message)
        }
        return Layout(entries: found.map(\.entry), ranges: found.map { dataStart + $0.begin ..< dataStart + $0.end },
                      metadata: metadata, fileSize: fileSize)
    }
}

extension SafeTensors {
    /// Writes `tensors` in order as a complete safetensors file at the new path `path` and
    /// fsyncs it; the SHA-256 is computed as the bytes go out.
    /// - Returns: the file's size and SHA-256 (hex).
    @discardableResult
    public static func write(_ tensors: [ShardTensor], metadata: [String: String] = [:],
                             to path: String) throws -> (bytes: Int, sha256: String) {
        for t in tensors where t.entry.byteCount != t.bytes.count {
            throw CheckpointError(file: path, field: t.entry.name, "has \(t.bytes.count) bytes for \(t.entry.dtype.rawValue) "
                + "\(t.entry.shape) (\(t.entry.byteCount.map(String.init) ?? "an impossible size") expected)")
        }
        let (header, fileSize) = try SafeTensors.header(tensors.map(\.entry), metadata: metadata)
        let fd = try FileIO.create(path)
        defer { close(fd) }
        let hasher = SHA256()
        try header.withUnsafeBytes { bytes in
            hasher.update(bytes)
            try FileIO.writeAll(fd, bytes, path: path)
        }
        // Chunks keep the hashed bytes in cache for the write that follows.
        let chunk = 4 << 20
        for t in tensors {
            var start = 0
            while start < t.bytes.count {
                let part = UnsafeRawBufferPointer(rebasing: t.bytes[start ..< min(start + chunk, t.bytes.count)])
                hasher.update(part)
                try FileIO.writeAll(fd, part, path: path)
                start += part.count
            }
        }
        try FileIO.sync(fd, path: path)
        return (fileSize, hasher.finalize())
    }

    /// Writes a safetensors file atomically: beside `path` under a temporary name, fsynced,
    /// renamed over `path`, the folder fsynced. A crash leaves the old file or the new one.
    public static func writeAtomically(_ tensors: [ShardTensor], metadata: [String: String] = [:],
                                       to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = (folder.isEmpty ? "." : folder) + "/.tmp-" + (path as NSString).lastPathComponent + "-\(getpid())"
        unlink(temporary)
        do {
            try write(tensors, metadata: metadata, to: temporary)
            try FileIO.rename(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
        try FileIO.syncDirectory(folder.isEmpty ? "." : folder)
    }

    /// Reads every tensor of the safetensors file `path` (F32 as Float, I64 converted to
    /// Float), with the header's metadata. Errors name the file and the tensor.
    public static func read(_ path: String) throws -> (tensors: [(entry: SafeTensorsEntry, values: [Float])],
                                                         metadata: [String: String]) {
        let file = try ReadOnlyFile(path)
        let layout = try layout(of: file)
        var out: [(SafeTensorsEntry, [Float])] = []
        for (entry, range) in zip(layout.entries, layout.ranges) {
            let bytes = try file.read(count: range.count, at: range.lowerBound)
            let values: [Float] = bytes.withUnsafeBytes { raw in
                switch entry.dtype {
                case .f32: return (0 ..< range.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                case .i64: return (0 ..< range.count / 8).map { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
                }
            }
            out.append((entry, values))
        }
        return (out, layout.metadata)
    }
}
