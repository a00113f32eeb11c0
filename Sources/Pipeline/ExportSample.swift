import Foundation
import Model
import Parallel
import SeededRandom

/// A model's outputs on a few token sequences, written beside an export so that whoever loads
/// it elsewhere (fastai, PyTorch) can check that the loaded model computes the same thing.
///
/// Language model: the log-probabilities of the next token at every position (evaluation
/// mode: no dropout, recurrent state starting from zero), from our encoder and tied decoder.
/// Classifier: the class probabilities `ulmfit evaluate` computes (the same code path).
public enum ExportSample {
    /// `count` sequences of seeded random token ids (never padding), of lengths growing from
    /// `length` (so a classifier batch mixes lengths), with the model's outputs for each:
    /// `{"kind", "sequences": [[id]], "log_probs": [[[Double]]]}` (LM, [T][V] per sequence) or
    /// `{"kind", "sequences", "probabilities": [[Double]]}` (classifier).
    public static func make(_ model: ModelCheckpoint, count: Int, length: Int, seed: UInt64 = 1,
                            pool: WorkerPool) throws -> [String: Any] {
        var random = CounterRandom(seed: seed, 0x5A4D_504C)
        let V = model.config.vocabSize
        let sequences: [[Int32]] = (0 ..< count).map { i in
            (0 ..< length + 7 * i).map { _ in Int32(Int.random(in: 1 ..< V, using: &random)) }
        }
        var out: [String: Any] = ["kind": model.kind.rawValue, "step": model.step, "sequences": sequences.map { $0.map(Int.init) }]
        switch model.kind {
        case .languageModel:
            out["log_probs"] = sequences.map { languageModelLogProbabilities(model, tokens: $0) }
        case .classifier:
            let classifier = try ClassifierCheckpoint.load(model)
            let labels = (0 ..< count).map { Int32($0 % classifier.classCount) }
            let evaluation = try classifier.evaluate(sequences: sequences, labels: labels, pool: pool, batchSize: count)
            out["probabilities"] = evaluation.probabilities.map { $0.map(Double.init) }
        }
        return out
    }

    /// log softmax(decoder(encoder(tokens))) at every position: [T][V], computed in Double from
    /// the encoder's Float outputs.
    static func languageModelLogProbabilities(_ model: ModelCheckpoint, tokens: [Int32]) -> [[Double]] {
        let parameters = LanguageModelParameters(config: model.config)
        let E = model.config.embeddingSize, V = model.config.vocabSize, T = tokens.count
        let encoder = AWDLSTMEncoder(parameters: parameters.encoder, streamCapacity: 1, stepCapacity: T)
        let shared = WeightDropState(parameters: parameters.encoder)
        return model.params.withUnsafeBufferPointer { params in
            let p = params.baseAddress!
            shared.prepareAndPack(params: p, key: nil)
            encoder.resetState()
            let output = tokens.withUnsafeBufferPointer {
                encoder.forward(tokens: $0.baseAddress!, steps: T, streams: 1, params: p, shared: shared, dropout: nil)
            }
            let embedding = p + parameters.encoder.embedding.offset, bias = p + parameters.decoderBias.offset
            return (0 ..< T).map { t in
                let logits = (0 ..< V).map { v in
                    (0 ..< E).reduce(Double(bias[v])) { $0 + Double(output[t * E + $1]) * Double(embedding[v * E + $1]) }
                }
                let m = logits.max()!
                let logSum = m + Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - m) })
                return logits.map { $0 - logSum }
            }
        }
    }
}
