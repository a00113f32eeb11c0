import Checkpoint
import Foundation
import GenomicData
import Model
import Parallel
@testable import Pipeline

/// Writes model checkpoints the way the training runs do, without training.
enum CheckpointTestSupport {
    static func pool(workers: Int = 2) throws -> WorkerPool {
        let topology = try Topology.machine()
        return try WorkerPool(layout: WorkerLayout(spec: LayoutSpec(workers: workers, oversubscribe: true), topology: topology),
                              topology: topology, bind: false)
    }

    static func temporaryRun() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)").path
    }

    /// A language-model checkpoint of `params` at `step` in `run`.
    @discardableResult
    static func writeLanguageModel(run: String, config: AWDLSTMConfig, params: [Float], vocabulary: Vocabulary,
                                   step: Int, workers: Int = 2) throws -> String {
        let parameters = LanguageModelParameters(config: config)
        let writer = RunCheckpoint(run: run, kind: .languageModel, shape: .init(config: config), layout: parameters.layout,
                                   vocabulary: vocabulary, runConfig: .null, keep: nil, deterministicShards: nil)
        return try params.withUnsafeBufferPointer {
            try writer.write(pool: pool(workers: workers), params: $0.baseAddress!, progress: .init(step: step, epoch: 0))
        }
    }

    /// A classifier checkpoint of `params` and `statistics` at `step` in `run`.
    @discardableResult
    static func writeClassifier(run: String, parameters: ClassifierParameters, params: [Float], statistics: [Float],
                                vocabulary: Vocabulary, step: Int, workers: Int = 2) throws -> String {
        let shape = ModelCheckpoint.Shape(config: parameters.encoder.config, classCount: parameters.classCount,
                                          headHidden: parameters.linear0.outputSize, statisticsCount: parameters.statisticsCount)
        let writer = RunCheckpoint(run: run, kind: .classifier, shape: shape, layout: parameters.layout,
                                   vocabulary: vocabulary, runConfig: .null, keep: nil, deterministicShards: nil)
        return try params.withUnsafeBufferPointer { p in
            try statistics.withUnsafeBufferPointer { s in
                try writer.write(pool: pool(workers: workers), params: p.baseAddress!, statistics: s,
                                 progress: .init(step: step, epoch: 0))
            }
        }
    }
}
