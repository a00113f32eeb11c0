import Checkpoint
import Foundation
import GenomicData
import Model
import Testing
@testable import Pipeline

/// Issue 24, class 12: a checkpoint holding NaN or infinity is refused where it is loaded
/// (`--init-from`, `--encoder`, `evaluate`/`predict`/`scan`/`export --model` all load through
/// `ModelCheckpoint.load`), naming the tensor, not reported later as a diverged run or exported.
@Suite struct NonFiniteCheckpointTests {
    let config = AWDLSTMConfig(vocabSize: 6, embeddingSize: 4, hiddenSize: 5, layerCount: 2)
    let vocabulary = try! Vocabulary(kmers: ["A", "C", "G", "T"], k: 1, stride: 1)

    @Test(arguments: [Float.nan, .infinity])
    func aNonFiniteWeightIsNamedAtLoad(value: Float) throws {
        let run = CheckpointTestSupport.temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        let layout = LanguageModelParameters(config: config).layout
        var params = (0 ..< layout.count).map { Float($0 % 7) * 0.01 }
        let tensor = layout.specs[1]
        params[tensor.offset + 2] = value
        try CheckpointTestSupport.writeLanguageModel(run: run, config: config, params: params, vocabulary: vocabulary, step: 3)
        #expect { try ModelCheckpoint.load(from: run, expecting: .languageModel, role: "--init-from") } throws: { error in
            let e = error as! CheckpointError
            return e.field == "params" && "\(e)".contains("tensor '\(tensor.name)' holds 1 non-finite value")
                && "\(e)".contains("at index 2")
        }
    }
}
