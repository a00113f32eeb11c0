import Checkpoint
import Foundation
import GenomicData
import Kernels
import Parallel
import Training

/// A checkpoint a training run continues from (`--resume`), opened, verified and read: the
/// run's folder, its saved config and vocabulary, and where training stood.
///
/// `open` takes a run folder (its newest checkpoint that verifies; newer ones skipped are
/// named in `resolution`) or a checkpoint folder `RUN/checkpoints/step-N`. The resumed run
/// writes into the same run folder and continues its metrics logs.
public struct ResumePoint: Sendable {
    public let checkpoint: Checkpoint
    /// "using RUN/checkpoints/step-N" plus any newer checkpoint skipped and why.
    public let resolution: String
    /// The run folder the checkpoint belongs to.
    public let run: String
    public let kind: ModelCheckpoint.Kind
    public let shape: ModelCheckpoint.Shape
    let state: RunState
    /// Seconds `open` took (reading and verifying every file's SHA-256).
    public let verifySeconds: Double

    public var manifest: CheckpointManifest { checkpoint.manifest }
    public var step: Int { manifest.step }
    /// The resolved config the run was started with (as its command recorded it).
    public var config: JSONValue { manifest.config }
    var file: String { checkpoint.manifestPath }
    /// The manifest, as messages name it (relative to the working directory when inside it).
    public var manifestFile: String { ConfigPath.display(file) }

    /// Opens the checkpoint of `path` to resume a run of `expected` kind.
    /// - Throws: `CheckpointError` naming the file and field: no intact checkpoint, another kind,
    ///   a checkpoint outside a run's `checkpoints/` folder, or one that holds no training state.
    public static func open(_ path: String, expecting expected: ModelCheckpoint.Kind) throws -> ResumePoint {
        let start = Date()
        let resolved = try CheckpointDirectory.resolve(path)
        let checkpoint = resolved.checkpoint, manifest = checkpoint.manifest, file = checkpoint.manifestPath
        guard manifest.kind == expected.rawValue else {
            throw CheckpointError(file: file, field: "kind", "is \"\(manifest.kind)\": --resume needs a run of "
                + "`\(expected.writer)`")
        }
        let folder = URL(fileURLWithPath: checkpoint.path).standardizedFileURL
        guard folder.deletingLastPathComponent().lastPathComponent == "checkpoints" else {
            throw CheckpointError(file: checkpoint.path, "is not inside a run's checkpoints/ folder: give the run folder "
                + "(or RUN/checkpoints/step-N) so that the resumed run continues its logs")
        }
        let shape: ModelCheckpoint.Shape
        do {
            shape = try manifest.model.decode(ModelCheckpoint.Shape.self)
        } catch {
            throw CheckpointError(file: file, field: "model", "does not describe a model: \(error)")
        }
        for tensor in ["exp_avg", "exp_avg_sq"] where !checkpoint.hasSliced(tensor) {
            throw CheckpointError(file: file, field: "shards", "hold no optimizer state ('\(tensor)'): this checkpoint "
                + "holds weights only, so a run cannot resume from it; it can start one (--init-from)")
        }
        return ResumePoint(checkpoint: checkpoint, resolution: resolved.summary,
                           run: folder.deletingLastPathComponent().deletingLastPathComponent().path, kind: expected,
                           shape: shape, state: try RunState(manifest: manifest, file: file),
                           verifySeconds: Date().timeIntervalSince(start))
    }

    /// The vocabulary the run was trained with.
    public func vocabulary() throws -> Vocabulary {
        let v = manifest.vocabulary
        do {
            return try Vocabulary(kmers: Array(v.tokens.dropFirst(Vocabulary.specialTokens.count)), k: v.k, stride: v.stride)
        } catch {
            throw CheckpointError(file: file, field: "vocabulary", "\(error)")
        }
    }

    /// Checks the resolved config of the resumed command against the saved one, and a
    /// vocabulary given with it: a value that differs is an error naming the field
    /// (`config.lr`), except under `mayDiffer` (top-level keys: e.g. the layout, the
    /// checkpoint frequency, data paths whose contents `check(data:)` verifies).
    public func check(config given: JSONValue, mayDiffer: Set<String>, vocabulary: Vocabulary? = nil) throws {
        var saved = manifest
        saved.config = saved.config.removing(mayDiffer)
        try saved.check(config: given.removing(mayDiffer), vocabulary: nil, file: file)
        if let vocabulary {
            try manifest.check(config: nil, vocabulary: vocabulary.tokens, k: vocabulary.k, stride: vocabulary.stride,
                               file: file)
        }
    }

    /// Checks that the training data is the data the run was started on.
    func check(data: DataFingerprint, what: String) throws {
        guard data == state.data else {
            throw CheckpointError(file: file, field: "dataCursor.train", "the \(what) differs from the run's: "
                + "\(data.items) items, \(data.tokens) tokens, SHA-256 \(data.sha256.prefix(12))... now; "
                + "\(state.data.items) items, \(state.data.tokens) tokens, SHA-256 \(state.data.sha256.prefix(12))... "
                + "in the checkpoint")
        }
    }

    /// Checks the run's step count (from its config and data) against the checkpoint's.
    func check(totalSteps: Int) throws {
        guard totalSteps == state.totalSteps else {
            throw CheckpointError(file: file, field: "schedule.totalSteps", "is \(state.totalSteps); the run as now "
                + "configured has \(totalSteps) steps")
        }
    }

    /// Restores `trainer` to the checkpoint: weights, every worker's AdamW moments (each reads
    /// its own slice, whatever number of shards wrote them) and step counts, and the step
    /// counters with `plan` (the plan of the stage the run was in).
    func restore(_ trainer: DataParallelTrainer, plan: OptimizerPlan) throws {
        let engine = trainer.engine, checkpoint = self.checkpoint, counts = state.stepCounts
        guard manifest.parameters.count == engine.params.count else {
            throw CheckpointError(file: file, field: "parameters.count", "is \(manifest.parameters.count), the model "
                + "has \(engine.params.count)")
        }
        try trainer.pool.runThrowing { w in
            let shard = engine.optimizerShard(worker: w), range = shard.range
            let params = try checkpoint.assemble("params", range: range)
            params.withUnsafeBufferPointer { (engine.params.pointer + range.lowerBound).update(from: $0.baseAddress!, count: range.count) }
            do {
                try shard.restore(expAvg: checkpoint.assemble("exp_avg", range: range),
                                  expAvgSq: checkpoint.assemble("exp_avg_sq", range: range), stepCounts: counts)
            } catch let error as TrainingError {
                throw CheckpointError(file: checkpoint.manifestPath, field: "optimizer.stepCounts", "\(error)")
            }
        }
        try trainer.resume(plan: plan, step: state.step, stageStart: state.stageStart)
    }

    /// BatchNorm running statistics (shard 0) into `statistics`.
    func restoreStatistics(into statistics: FloatBuffer) throws {
        let values = try checkpoint.floats(ModelCheckpoint.statisticsTensor, shard: 0)
        guard values.count == statistics.count else {
            throw CheckpointError(file: file, field: ModelCheckpoint.statisticsTensor, "has \(values.count) values, the "
                + "classifier needs \(statistics.count)")
        }
        values.withUnsafeBufferPointer { statistics.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Checkpoints of the run newer than this one belong to the course the run is leaving
    /// (e.g. a damaged newest one that `open` skipped): each is renamed to
    /// `superseded-step-N-<time>` (kept, but no longer a checkpoint), so that the continuation's
    /// checkpoints are the newest. Returns one line per folder moved.
    func setAsideNewerCheckpoints() throws -> [String] {
        let directory = (run as NSString).appendingPathComponent("checkpoints")
        let stamp = Int(Date().timeIntervalSince1970)
        var moved: [String] = []
        for step in CheckpointDirectory.checkpointSteps(in: directory).sorted() where step > self.step {
            let name = CheckpointDirectory.folderName(step: step)
            let target = "superseded-\(name)-\(stamp)"
            let from = (directory as NSString).appendingPathComponent(name)
            do {
                try FileManager.default.moveItem(atPath: from, toPath: (directory as NSString).appendingPathComponent(target))
            } catch {
                throw CheckpointError(file: from, "a checkpoint newer than the one resumed cannot be set aside: \(error.localizedDescription)")
            }
            moved.append("\(name) -> \(target)")
        }
        return moved
    }
}

extension JSONValue {
    /// This object without the members named in `keys` (other values unchanged).
    func removing(_ keys: Set<String>) -> JSONValue {
        guard case let .object(members) = self else { return self }
        return .object(members.filter { !keys.contains($0.key) })
    }
}
