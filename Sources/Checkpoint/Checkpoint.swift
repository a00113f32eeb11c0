import Foundation

/// A verified checkpoint folder, open for reading tensors.
///
/// `open` checks everything before anything is used: the manifest's format and version, its
/// SHA-256 against `SHA256SUMS`, its internal consistency (vocabulary hash, shard ranges that
/// tile the parameters, tensor sizes), and every shard's presence, size, safetensors header and
/// SHA-256. Every error is a `CheckpointError` naming the file and the field.
public struct Checkpoint: Sendable {
    /// The checkpoint folder.
    public let path: String
    public let manifest: CheckpointManifest
    private let layouts: [SafeTensors.Layout]

    public var manifestPath: String { file(CheckpointDirectory.manifestFile) }

    /// Opens and verifies the checkpoint folder `path`. `verifyChecksums: false` skips hashing
    /// the shards (sizes and headers are still checked).
    public static func open(_ path: String, verifyChecksums: Bool = true) throws -> Checkpoint {
        let manifestPath = (path as NSString).appendingPathComponent(CheckpointDirectory.manifestFile)
        let sumsPath = (path as NSString).appendingPathComponent(CheckpointDirectory.sumsFile)
        let manifestFile = try ReadOnlyFile(manifestPath, missing: "missing (is \(path) a checkpoint folder?)")
        guard manifestFile.size <= 1 << 30 else {
            throw CheckpointError(file: manifestPath, "is \(manifestFile.size) bytes, too large for a manifest")
        }
        let manifestData = Data(try manifestFile.read(count: manifestFile.size, at: 0))
        let sums = try readSums(sumsPath)
        guard let expected = sums[CheckpointDirectory.manifestFile] else {
            throw CheckpointError(file: sumsPath, field: CheckpointDirectory.manifestFile, "has no line for the manifest")
        }
        let actual = sha256Hex(manifestData)
        guard actual == expected else {
            throw CheckpointError(file: manifestPath, "checksum mismatch (corrupted or edited): SHA-256 \(actual), "
                + "\(CheckpointDirectory.sumsFile) says \(expected)")
        }
        let manifest = try decode(manifestData, file: manifestPath)
        try validate(manifest, file: manifestPath)

        var layouts: [SafeTensors.Layout] = []
        for shard in manifest.shards {
            let shardPath = (path as NSString).appendingPathComponent(shard.file)
            guard sums[shard.file] == shard.sha256 else {
                throw CheckpointError(file: sumsPath, field: shard.file, "SHA-256 \(sums[shard.file] ?? "missing"), the "
                    + "manifest says \(shard.sha256)")
            }
            let file = try ReadOnlyFile(shardPath, missing: "missing shard (the manifest lists it)")
            guard file.size == shard.bytes else {
                throw CheckpointError(file: shardPath, "has \(file.size) bytes, the manifest says \(shard.bytes)"
                    + (file.size < shard.bytes ? ": truncated" : ""))
            }
            let layout = try SafeTensors.layout(of: file)
            guard layout.entries.sorted(by: { $0.name < $1.name }) == shard.tensors.sorted(by: { $0.name < $1.name }) else {
                throw CheckpointError(file: shardPath, field: "header", "declares tensors "
                    + describe(layout.entries) + ", the manifest lists " + describe(shard.tensors))
            }
            if verifyChecksums {
                let digest = try hash(file)
                guard digest == shard.sha256 else {
                    throw CheckpointError(file: shardPath, "checksum mismatch (corrupted): SHA-256 \(digest), "
                        + "the manifest says \(shard.sha256)")
                }
            }
            layouts.append(layout)
        }
        return Checkpoint(path: path, manifest: manifest, layouts: layouts)
    }

    /// Tensor `name` of shard `index` as Floats.
    /// - Throws: `CheckpointError` when the shard lacks it or it is not F32.
    public func floats(_ name: String, shard index: Int) throws -> [Float] {
        let (file, range) = try locate(name, shard: index)
        return try readFloats(file: file, bytes: range)
    }

    /// Elements `range` of the sliced tensor `name` (`params`, `exp_avg`, ...), assembled
    /// from every shard whose parameter range overlaps it: any range can be read whatever
    /// number of shards wrote it (re-sharding on load).
    /// - Throws: `CheckpointError` when `range` is outside the parameters or an overlapping
    ///   shard lacks the tensor.
    public func assemble(_ name: String, range: Range<Int>) throws -> [Float] {
        guard range.lowerBound >= 0, range.upperBound <= manifest.parameters.count else {
            throw CheckpointError(file: manifestPath, field: name, "range \(range) is outside the parameters "
                + "0..<\(manifest.parameters.count)")
        }
        var out = [Float](repeating: 0, count: range.count)
        for (i, shard) in manifest.shards.enumerated() {
            let overlap = shard.range.clamped(to: range)
            guard !overlap.isEmpty else { continue }
            let (file, bytes) = try locate(name, shard: i)
            guard bytes.count == shard.range.count * 4 else {
                throw CheckpointError(file: file, field: name, "has \(bytes.count / 4) values, the shard's parameter range "
                    + "\(shard.range) needs \(shard.range.count)")
            }
            let start = bytes.lowerBound + (overlap.lowerBound - shard.range.lowerBound) * 4
            let values = try readFloats(file: file, bytes: start ..< start + overlap.count * 4)
            out.replaceSubrange(overlap.lowerBound - range.lowerBound ..< overlap.upperBound - range.lowerBound, with: values)
        }
        return out
    }

    /// Whether every shard holds the sliced tensor `name` (e.g. the optimizer moments).
    public func hasSliced(_ name: String) -> Bool {
        manifest.shards.allSatisfy { shard in shard.tensors.contains { $0.name == name } }
    }

    /// The row-split tensor `name` (2-D, `[rows, width]`) put back together: every shard holds
    /// the rows its worker owned, in global row order, so the shards' rows concatenated in
    /// shard order are all rows, whatever number of shards wrote them.
    /// - Throws: `CheckpointError` when a shard lacks the tensor or the shards' widths differ.
    public func concatenated(_ name: String) throws -> (rows: Int, width: Int, values: [Float]) {
        var values: [Float] = [], rows = 0, width: Int?
        for (i, layout) in layouts.enumerated() {
            let (file, bytes) = try locate(name, shard: i)
            let shape = layout.entries[layout.index(of: name)!].shape
            guard shape.count == 2, width == nil || shape[1] == width else {
                throw CheckpointError(file: file, field: name, "has shape \(shape); expected [rows, \(width.map(String.init) ?? "width")] "
                    + "as in every shard")
            }
            width = shape[1]
            rows += shape[0]
            values += try readFloats(file: file, bytes: bytes)
        }
        return (rows, width ?? 0, values)
    }

    /// Lower-case hex SHA-256 of `bytes` (fingerprints a run records in its manifest, e.g. of
    /// its training data).
    public static func sha256(of bytes: UnsafeRawBufferPointer) -> String {
        SHA256.hex(of: bytes)
    }

    // MARK: - Private

    private func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    private func locate(_ name: String, shard index: Int) throws -> (file: String, bytes: Range<Int>) {
        guard manifest.shards.indices.contains(index) else {
            throw CheckpointError(file: manifestPath, field: "shards", "has no shard \(index)")
        }
        let file = self.file(manifest.shards[index].file), layout = layouts[index]
        guard let t = layout.index(of: name) else {
            throw CheckpointError(file: file, field: name, "no such tensor in this shard")
        }
        guard layout.entries[t].dtype == .f32 else {
            throw CheckpointError(file: file, field: name, "is \(layout.entries[t].dtype.rawValue), expected F32")
        }
        return (file, layout.ranges[t])
    }

    private func readFloats(file path: String, bytes: Range<Int>) throws -> [Float] {
        let file = try ReadOnlyFile(path, missing: "missing shard")
        return try [Float](unsafeUninitializedCapacity: bytes.count / 4) { buffer, initialized in
            try file.read(into: UnsafeMutableRawBufferPointer(buffer), at: bytes.lowerBound)
            initialized = bytes.count / 4
        }
    }

    private static func describe(_ entries: [SafeTensorsEntry]) -> String {
        "[" + entries.map { "\($0.name) \($0.dtype.rawValue) \($0.shape)" }.joined(separator: ", ") + "]"
    }

    private static func hash(_ file: ReadOnlyFile) throws -> String {
        let hasher = SHA256()
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var offset = 0
        while offset < file.size {
            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< min(chunk, file.size - offset)])
            try file.read(into: part, at: offset)
            hasher.update(UnsafeRawBufferPointer(part))
            offset += part.count
        }
        return hasher.finalize()
    }

    /// `SHA256SUMS`: "hex  name" per line.
    private static func readSums(_ path: String) throws -> [String: String] {
        let file = try ReadOnlyFile(path, missing: "missing (every complete checkpoint has one)")
        guard file.size <= 1 << 20 else { throw CheckpointError(file: path, "is \(file.size) bytes, too large") }
        guard let text = String(bytes: try file.read(count: file.size, at: 0), encoding: .utf8) else {
            throw CheckpointError(file: path, "is not UTF-8 text")
        }
        var sums: [String: String] = [:]
        for (n, line) in text.split(separator: "\n").enumerated() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 64, parts[0].allSatisfy(\.isHexDigit),
                  parts[1].hasPrefix(" ") else {
                throw CheckpointError(file: path, field: "line \(n + 1)", "is not \"<sha256>  <file>\"")
            }
            sums[String(parts[1].dropFirst())] = String(parts[0])
        }
        return sums
    }

    /// Decodes the manifest, checking the format and version first so that a newer format is
    /// reported as such rather than as a missing field.
    private static func decode(_ data: Data, file: String) throws -> CheckpointManifest {
        let raw: JSONValue
        do {
            raw = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw CheckpointError(file: file, "is not valid JSON")
        }
        guard raw["format"]?.stringValue == CheckpointManifest.formatName else {
            throw CheckpointError(file: file, field: "format", "is \(raw["format"]?.text ?? "absent"), expected "
                + "\"\(CheckpointManifest.formatName)\"")
        }
        guard let version = raw["formatVersion"]?.intValue, version == CheckpointManifest.currentVersion else {
            throw CheckpointError(file: file, field: "formatVersion", "is \(raw["formatVersion"]?.text ?? "absent"); "
                + "this build reads version \(CheckpointManifest.currentVersion) only")
        }
        do {
            return try JSONDecoder().decode(CheckpointManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw CheckpointError(file: file, field: fieldPath(context.codingPath + [key]), "missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            throw CheckpointError(file: file, field: fieldPath(context.codingPath), "has the wrong type or value")
        } catch {
            throw CheckpointError(file: file, "cannot be read: \(error)")
        }
    }

    private static func fieldPath(_ path: [CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
    }

    /// Internal consistency of a decoded manifest.
    private static func validate(_ m: CheckpointManifest, file: String) throws {
        func fail(_ field: String, _ message: String) -> CheckpointError {
            CheckpointError(file: file, field: field, message)
        }
        guard ["language-model", "classifier"].contains(m.kind) else {
            throw fail("kind", "is \"\(m.kind)\", expected \"language-model\" or \"classifier\"")
        }
        guard m.step >= 0, m.epoch >= 0, m.stage >= 0 else { throw fail("step", "step, epoch and stage must be >= 0") }
        guard m.vocabulary.sha256 == CheckpointManifest.Vocabulary.hash(tokens: m.vocabulary.tokens, k: m.vocabulary.k,
                                                                         stride: m.vocabulary.stride) else {
            throw fail("vocabulary.sha256", "does not match the vocabulary's tokens")
        }
        let count = m.parameters.count
        guard count >= 0 else { throw fail("parameters.count", "is negative") }
        for (i, t) in m.parameters.tensors.enumerated() {
            let size = SafeTensorsEntry(name: t.name, dtype: .f32, shape: t.shape).byteCount.map { $0 / 4 }
            guard let size, t.offset >= 0, t.offset <= count, size <= count - t.offset else {
                throw fail("parameters.tensors[\(i)]", "\(t.name) \(t.shape) at \(t.offset) does not fit in \(count) parameters")
            }
        }
        guard !m.shards.isEmpty, m.shards.count == m.layout.shardCount else {
            throw fail("shards", "lists \(m.shards.count) shards, layout.shardCount is \(m.layout.shardCount)")
        }
        var position = 0
        for (i, shard) in m.shards.enumerated() {
            guard shard.file == CheckpointWriter.shardFileName(i, of: m.shards.count) else {
                throw fail("shards[\(i)].file", "is \"\(shard.file)\", expected \"\(CheckpointWriter.shardFileName(i, of: m.shards.count))\"")
            }
            guard shard.parameterRange.count == 2, shard.parameterRange[0] == position,
                  shard.parameterRange[1] >= position, shard.parameterRange[1] <= count else {
                throw fail("shards[\(i)].parameterRange", "is \(shard.parameterRange); shards must tile 0..<\(count) "
                    + "in order (this one starts at \(position))")
            }
            position = shard.parameterRange[1]
            guard shard.bytes >= 8 else { throw fail("shards[\(i)].bytes", "is \(shard.bytes)") }
        }
        guard position == count else {
            throw fail("shards", "cover parameters 0..<\(position), the model has \(count)")
        }
    }
}
