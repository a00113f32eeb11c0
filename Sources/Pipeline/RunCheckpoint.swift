import Checkpoint
import Foundation
import GenomicData
import Model
import Parallel

/// Writes a training run's checkpoints into `RUN/checkpoints/`: each worker writes the shard
/// of the parameter slice it owns (the slice `ReduceScatter` gives it, so the shards are the
/// slices `AdamWShard` updates), shard 0 also the BatchNorm statistics; the manifest records
/// the model, the vocabulary, the layout and where training stood.
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

    /// Where training stood when the checkpoint was written.
    struct Progress {
        var step: Int
        var epoch: Int
        var stage = 0
        var schedule: JSONValue = .null
        var dataCursor: JSONValue = .null
        var randomKeys: JSONValue = .null
    }

    /// Writes checkpoint `progress.step`; every worker of `pool` writes its shard at once.
    /// - Returns: the checkpoint folder.
    @discardableResult
    func write(pool: WorkerPool, params: UnsafePointer<Float>, statistics: UnsafeBufferPointer<Float>? = nil,
               progress: Progress) throws -> String {
        let W = pool.workerCount
        let slices = ReduceScatter.slices(count: layout.count, workers: W)
        let writer = try CheckpointWriter(run: run, step: progress.step, shardCount: W, keep: keep)
        try pool.runThrowing { w in
            var tensors = [ShardTensor(name: "params", values: UnsafeBufferPointer(rebasing:
                UnsafeBufferPointer(start: params, count: layout.count)[slices[w]]))]
            if w == 0, let statistics, !statistics.isEmpty {
                tensors.append(ShardTensor(name: ModelCheckpoint.statisticsTensor, values: statistics))
            }
            try writer.writeShard(w, parameterRange: slices[w], tensors: tensors)
        }
        let binding = pool.reports.allSatisfy(\.isBound) ? pool.layout.unit.rawValue : "none"
        let manifest = CheckpointManifest(
            kind: kind.rawValue, model: try JSONValue(encoding: shape), config: runConfig,
            vocabulary: .init(tokens: vocabulary.tokens, k: vocabulary.k, stride: vocabulary.stride),
            stage: progress.stage, epoch: progress.epoch, step: progress.step, schedule: progress.schedule,
            dataCursor: progress.dataCursor, randomKeys: progress.randomKeys,
            layout: .init(workers: W, binding: binding, shardCount: W, deterministicShards: deterministicShards),
            parameters: .init(count: layout.count,
                              tensors: layout.specs.map { .init(name: $0.name, shape: $0.shape, offset: $0.offset) }))
        return try writer.commit(manifest)
    }
}
