import OutputFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One tensor handed to `CheckpointWriter.writeShard`: its header entry and its bytes (raw,
/// little-endian, read in place; they must stay valid during the call).
public struct ShardTensor {
    public var entry: SafeTensorsEntry
    public var bytes: UnsafeRawBufferPointer

    /// A Float32 tensor of `shape` read from `values` (`values.count` must be the shape's size).
    public init(name: String, shape: [Int], values: UnsafeBufferPointer<Float>) {
        entry = SafeTensorsEntry(name: name, dtype: .f32, shape: shape)
        bytes = UnsafeRawBufferPointer(values)
    }

    /// A 1-D Float32 tensor.
    public init(name: String, values: UnsafeBufferPointer<Float>) {
        self.init(name: name, shape: [values.count], values: values)
    }

    public init(entry: SafeTensorsEntry, bytes: UnsafeRawBufferPointer) {
        self.entry = entry
        self.bytes = bytes
    }
}

/// Writes one checkpoint folder atomically as a whole.
///
///     let writer = try CheckpointWriter(run: "runs/lm", step: 123, shardCount: W)
///     // on each worker w, concurrently:
///     try writer.writeShard(w, parameterRange: slice[w], tensors: [...])
///     // then once:
///     let path = try writer.commit(manifest)
///
/// The folder is built as `RUN/checkpoints/.tmp-step-000123-PID`; every file is fsynced as it
/// is written; `commit` writes the manifest and `SHA256SUMS`, fsyncs the folder, renames it to
/// `step-000123`, fsyncs `checkpoints/`, and only then points `latest` at it (replaced
/// atomically). A crash at any moment leaves the previous checkpoint and `latest` as they
/// were; the temporary folder it leaves is removed by the next writer. `commit` then removes
/// all but the newest `keep` checkpoints.
public final class CheckpointWriter: @unchecked Sendable {
    /// Thrown by the `crashAfter` test hook.
    public struct SimulatedCrash: Error, Equatable {
        public let afterSteps: Int
    }

    public let run: String
    public let step: Int
    public let shardCount: Int
    /// Checkpoints kept after a commit (the newest ones); nil keeps all.
    public let keep: Int?
    /// `RUN/checkpoints`.
    public let directory: String
    /// The folder being written.
    public let temporaryPath: String
    /// The folder's final path.
    public let finalPath: String

    private let lock = NSLock()
    private var records: [CheckpointManifest.Shard?]
    private var durableSteps = 0
    private let crashAfter: Int?
    private let crashAfterIsReal: Bool
    private var committed = false

    /// Prepares `RUN/checkpoints/` (created if needed, temporary folders of crashed writers
    /// removed) and the temporary folder of this checkpoint.
    ///
    /// - Parameter crashAfter: test hook: after this many durable steps (each shard file, the
    ///   manifest, SHA256SUMS, the rename into place, the `latest` update, each removal of an
    ///   old checkpoint) the writer stops as a crash would: it throws `SimulatedCrash` and
    ///   cleans nothing up. The environment variable `ULMFIT_CHECKPOINT_CRASH_AFTER` does the
    ///   same with a real `_exit(137)`, for tests that run the `ulmfit` process.
    public init(run: String, step: Int, shardCount: Int, keep: Int? = nil, crashAfter: Int? = nil) throws {
        guard step >= 0, shardCount >= 1, (keep ?? 1) >= 1 else {
            throw CheckpointError(file: run, "checkpoint step \(step), shard count \(shardCount), keep \(keep ?? 0): "
                + "need step >= 0, at least one shard, keep >= 1")
        }
        self.run = run
        self.step = step
        self.shardCount = shardCount
        self.keep = keep
        directory = (run as NSString).appendingPathComponent("checkpoints")
        finalPath = (directory as NSString).appendingPathComponent(CheckpointDirectory.folderName(step: step))
        temporaryPath = (directory as NSString).appendingPathComponent(
            ".tmp-" + CheckpointDirectory.folderName(step: step) + "-\(getpid())")
        records = Array(repeating: nil, count: shardCount)
        crashAfterIsReal = crashAfter == nil
        self.crashAfter = crashAfter
            ?? ProcessInfo.processInfo.environment["ULMFIT_CHECKPOINT_CRASH_AFTER"].flatMap { Int($0) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(file: directory, "cannot create the checkpoints folder: \(FileIO.reason())")
        }
        try CheckpointDirectory.removeTemporaryFolders(in: directory)
        guard mkdir(temporaryPath, 0o755) == 0 else {
            throw CheckpointError(file: temporaryPath, "cannot create: \(FileIO.reason())")
        }
    }

    /// Shard `index`'s file name: `shard-00000-of-00002.safetensors`.
    public static func shardFileName(_ index: Int, of count: Int) -> String {
        String(format: "shard-%05d-of-%05d.safetensors", index, count)
    }

    /// Writes shard `index` (safe to call from several threads at once, each index once):
    /// `tensors` in order into one safetensors file, SHA-256 computed as the bytes go out, the
    /// file fsynced.
    /// - Parameter parameterRange: the slice of the flat parameter buffer held by this shard's
    ///   sliced tensors (`params`, `exp_avg`, `exp_avg_sq`).
    public func writeShard(_ index: Int, parameterRange: Range<Int>, tensors: [ShardTensor]) throws {
        guard index >= 0, index < shardCount else {
            throw CheckpointError(file: temporaryPath, "shard \(index) is outside 0..<\(shardCount)")
        }
        let name = Self.shardFileName(index, of: shardCount)
        let path = (temporaryPath as NSString).appendingPathComponent(name)
        let (fileSize, sha256) = try SafeTensors.write(tensors, to: path)
        let record = CheckpointManifest.Shard(file: name, parameterRange: [parameterRange.lowerBound, parameterRange.upperBound],
                                              tensors: tensors.map(\.entry), bytes: fileSize, sha256: sha256)
        lock.lock()
        let duplicate = records[index] != nil
        records[index] = record
        lock.unlock()
        if duplicate { throw CheckpointError(file: path, "shard \(index) was written twice") }
        try durableStepDone()
    }

    /// Finishes the checkpoint: fills `manifest.shards`, writes `manifest.json` and
    /// `SHA256SUMS`, renames the folder into place, updates `latest` and removes old
    /// checkpoints beyond `keep`. Returns the checkpoint's path.
    /// - Throws: `CheckpointError` when a shard is missing, the shards' ranges do not tile the
    ///   parameters, or a file operation fails (the previous checkpoint stays the latest).
    @discardableResult
    public func commit(_ manifest: CheckpointManifest) throws -> String {
        var manifest = manifest
        let shards = try lock.withLock { () throws -> [CheckpointManifest.Shard] in
            guard !committed else { throw CheckpointError(file: finalPath, "committed twice") }
            committed = true
            return try records.enumerated().map { i, record in
                guard let record else {
                    throw CheckpointError(file: temporaryPath, field: Self.shardFileName(i, of: shardCount), "shard was never written")
                }
                return record
            }
        }
        var position = 0
        for shard in shards {
            guard shard.parameterRange[0] == position, shard.parameterRange[1] >= position else {
                throw CheckpointError(file: temporaryPath, field: shard.file, "parameter range \(shard.range) does not "
                    + "continue the previous shard's (at \(position))")
            }
            position = shard.parameterRange[1]
        }
        guard position == manifest.parameters.count else {
            throw CheckpointError(file: temporaryPath, "the shards cover parameters 0..<\(position), the model has "
                + "\(manifest.parameters.count)")
        }
        manifest.step = step
        manifest.shards = shards
        manifest.layout.shardCount = shardCount
        let manifestData = try manifest.encoded()
        try FileIO.writeDurably(manifestData, to: path(CheckpointDirectory.manifestFile))
        try durableStepDone()
        var sums = "\(sha256Hex(manifestData))  \(CheckpointDirectory.manifestFile)\n"
        for shard in shards { sums += "\(shard.sha256)  \(shard.file)\n" }
        try FileIO.writeDurably(Data(sums.utf8), to: path(CheckpointDirectory.sumsFile))
        try FileIO.syncDirectory(temporaryPath)
        try durableStepDone()

        try moveIntoPlace()
        try durableStepDone()
        try OutputFile.write(Data((CheckpointDirectory.folderName(step: step) + "\n").utf8),
                             to: (directory as NSString).appendingPathComponent(CheckpointDirectory.latestFile),
                             wanted: "the pointer to the latest checkpoint")
        try durableStepDone()
        if let keep { try prune(keep: keep) }
        return finalPath
    }

    private func path(_ file: String) -> String { (temporaryPath as NSString).appendingPathComponent(file) }

    /// Renames the temporary folder to its final name. A folder already there (the same step
    /// written again, e.g. after a resume) is swapped out atomically and then removed.
    private func moveIntoPlace() throws {
        if FileManager.default.fileExists(atPath: finalPath) {
            guard FileIO.exchange(temporaryPath, finalPath) else {
                throw CheckpointError(file: finalPath, "already exists and cannot be replaced atomically: \(FileIO.reason())")
            }
            try FileIO.syncDirectory(directory)
            try? FileManager.default.removeItem(atPath: temporaryPath)   // now the old folder
        } else {
            try FileIO.rename(temporaryPath, to: finalPath)
            try FileIO.syncDirectory(directory)
        }
    }

    /// Removes all but the newest `keep` checkpoints (never the one just written). Each is
    /// renamed to a temporary name first, so a half-removed folder never looks like a checkpoint.
    private func prune(keep: Int) throws {
        let steps = CheckpointDirectory.checkpointSteps(in: directory).sorted(by: >)
        for old in steps.dropFirst(keep) where old != step {
            let folder = (directory as NSString).appendingPathComponent(CheckpointDirectory.folderName(step: old))
            let doomed = (directory as NSString).appendingPathComponent(".tmp-remove-" + CheckpointDirectory.folderName(step: old))
            try? FileManager.default.removeItem(atPath: doomed)
            try FileIO.rename(folder, to: doomed)
            try durableStepDone()
            try? FileManager.default.removeItem(atPath: doomed)
        }
        try FileIO.syncDirectory(directory)
    }

    /// Counts a durable step for the crash hook.
    private func durableStepDone() throws {
        guard let crashAfter else { return }
        let n = lock.withLock { () -> Int in
            durableSteps += 1
            return durableSteps
        }
        guard n >= crashAfter else { return }
        if crashAfterIsReal {
            FileHandle.standardError.write(Data("ULMFIT_CHECKPOINT_CRASH_AFTER=\(crashAfter): exiting as a crash would\n".utf8))
            _exit(137)
        }
        throw SimulatedCrash(afterSteps: n)
    }
}
