import Checkpoint
import Foundation
import GenomicData
import Kernels
import Model
import Parallel
import Training

/// Writes a training run's checkpoints into `RUN/checkpoints/`: each worker writes the shard
/// of the parameter slice it owns (the slice `ReduceScatter` gives it, so the shards are the
/// slices `AdamWShard` updates) with its AdamW moments of that slice (`exp_avg`, `exp_avg_sq`)
/// and its own extras (the language model's recurrent state of its streams); shard 0 also the
/// BatchNorm statistics. The manifest records the model, the vocabulary, the layout, the
/// resolved config and where training stood (`RunState`).
///
/// Shard index = worker index. Several processes (MPI) would number shards globally (a rank's
/// first worker's global index + w), each rank writing its own; re-sharding on load reads by
/// parameter range and row order, never by index, so it needs no change.
struct RunCheckpoint {
    var run: String
    var kind: ModelCheckpoint.Kind
    var shape: ModelCheckpoint.Shape
    var layout: ParameterLayout
    var vocabulary: Vocabulary
    /// The resolved run configuration (opaque here; null when the caller gave none).
    var runConfig: JSONValue
    var keep: Int?
    var deterministicShards: Int?

    /// A tensor one worker adds to its shard, e.g. the recurrent state of its streams.
    struct Extra {
        var name: String
        var shape: [Int]
        var values: [Float]
    }

    /// Where training stood, for a weights-only checkpoint (`write(pool:params:...)`).
    struct Progress {
        var step: Int
        var epoch: Int
        var stage = 0
    }

    /// A checkpoint written: its folder, its size and how long the write took.
    struct Written {
        var path: String
        var bytes: Int
        var seconds: Double

        /// "checkpoint runs/lm/checkpoints/step-000123: 246.1 MB in 0.84 s"
        var summary: String {
            let size = bytes >= 1_000_000 ? String(format: "%.1f MB", Double(bytes) / 1e6) : String(format: "%.1f kB", Double(bytes) / 1e3)
            return "checkpoint \(path): \(size) in \(String(format: "%.2f", seconds)) s"
        }
    }

    /// Writes checkpoint `state.step` of `trainer`, everything a resumed run needs: every worker
    /// writes its shard at once (weights and moments of its slice, `extras(w)`; shard 0 also
    /// `statistics`).
    @discardableResult
    func write(trainer: DataParallelTrainer, state: RunState, statistics: FloatBuffer? = nil,
               extras: @escaping (_ worker: Int) -> [Extra] = { _ in [] }) throws -> Written {
        let engine = trainer.engine, start = Date()
        let path = try write(pool: trainer.pool, params: engine.params.pointer,
                             statistics: statistics.map { UnsafeBufferPointer(start: $0.pointer, count: $0.count) },
                             optimizer: { engine.optimizerShard(worker: $0) }, extras: extras,
                             progress: Progress(step: state.step, epoch: state.epoch, stage: state.stage),
                             fields: try state.manifestFields())
        let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let bytes = files.reduce(0) { total, file in
            let size = (try? FileManager.default.attributesOfItem(atPath: (path as NSString).appendingPathComponent(file)))?[.size]
            return total + ((size as? NSNumber)?.intValue ?? 0)
        }
        return Written(path: path, bytes: bytes, seconds: Date().timeIntervalSince(start))
    }

    /// Writes a weights-only checkpoint (the model, no training state: it starts runs, e.g.
    /// with `--init-from`, but cannot resume one).
    @discardableResult
    func write(pool: WorkerPool, params: UnsafePointer<Float>, statistics: UnsafeBufferPointer<Float>? = nil,
               progress: Progress) throws -> String {
        try write(pool: pool, params: params, statistics: statistics, optimizer: nil, extras: { _ in [] },
                  progress: progress, fields: nil)
    }

    private func write(pool: WorkerPool, params: UnsafePointer<Float>, statistics: UnsafeBufferPointer<Float>?,
                       optimizer: ((Int) -> AdamWShard)?, extras: @escaping (Int) -> [Extra], progress: Progress,
                       fields: RunState.ManifestFields?) throws -> String {
        let W = pool.workerCount
        let slices = ReduceScatter.slices(count: layout.count, workers: W)
        let writer = try CheckpointWriter(run: run, step: progress.step, shardCount: W, keep: keep)
        try pool.runThrowing { w in
            var tensors = [ShardTensor(name: "params", values: UnsafeBufferPointer(rebasing:
                UnsafeBufferPointer(start: params, count: layout.count)[slices[w]]))]
            if let shard = optimizer?(w) {
                precondition(shard.range == slices[w], "optimizer shard \(shard.range) is not checkpoint slice \(slices[w])")
                tensors.append(ShardTensor(name: "exp_avg", values: UnsafeBufferPointer(shard.expAvg)))
                tensors.append(ShardTensor(name: "exp_avg_sq", values: UnsafeBufferPointer(shard.expAvgSq)))
            }
            if w == 0, let statistics, !statistics.isEmpty {
                tensors.append(ShardTensor(name: ModelCheckpoint.statisticsTensor, values: statistics))
            }
            try Self.withTensors(extras(w)[...], tensors) { all in
                try writer.writeShard(w, parameterRange: slices[w], tensors: all)
            }
        }
        let binding = pool.reports.allSatisfy(\.isBound) ? pool.layout.unit.rawValue : "none"
        let manifest = CheckpointManifest(
            kind: kind.rawValue, model: try JSONValue(encoding: shape), config: runConfig,
            vocabulary: .init(tokens: vocabulary.tokens, k: vocabulary.k, stride: vocabulary.stride),
            stage: progress.stage, epoch: progress.epoch, step: progress.step, schedule: fields?.schedule ?? .null,
            dataCursor: fields?.dataCursor ?? .null, randomKeys: fields?.randomKeys ?? .null,
            optimizer: fields?.optimizer, metrics: fields?.metrics,
            layout: .init(workers: W, binding: binding, shardCount: W, deterministicShards: deterministicShards),
            parameters: .init(count: layout.count,
                              tensors: layout.specs.map { .init(name: $0.name, shape: $0.shape, offset: $0.offset) }))
        return try writer.commit(manifest)
    }

    /// `body(tensors + extras)`, the extras' arrays pinned while it runs.
    private static func withTensors(_ extras: ArraySlice<Extra>, _ tensors: [ShardTensor],
                                    _ body: ([ShardTensor]) throws -> Void) throws {
        guard let first = extras.first else { return try body(tensors) }
        try first.values.withUnsafeBufferPointer { values in
            try withTensors(extras.dropFirst(), tensors + [ShardTensor(name: first.name, shape: first.shape, values: values)],
                            body)
        }
    }
}
