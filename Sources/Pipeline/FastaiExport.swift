import Checkpoint
import Foundation
import Model

/// A trained model as one safetensors file with fastai 2's state-dict names and layouts, plus
/// its vocabulary as fastai's `vocab` list (JSON) beside it.
///
/// Language model (`get_language_model(AWD_LSTM, ...)`): `0.encoder.weight`,
/// `0.encoder_dp.emb.weight` (the same embedding), per layer N `0.rnns.N.weight_hh_l0_raw`
/// (WeightDropout's raw copy), `0.rnns.N.module.weight_ih_l0`, `.bias_ih_l0`, `.bias_hh_l0`,
/// then `1.decoder.weight` (tied: the embedding again) and `1.decoder.bias`. Our tensors are
/// already PyTorch's layouts (`[4H, I]`, gates i, f, g, o), so nothing is transposed.
///
/// Classifier (`get_text_classifier`): the encoder under `0.module.`, the head under
/// `1.layers.`: `1.layers.L.0.*` the BatchNorm1d (weight, bias, running_mean, running_var,
/// num_batches_tracked) and `1.layers.L.2.weight` the Linear (index 1 when that layer's dropout
/// is 0, as `LinBnDrop` then has no Dropout module).
///
/// The head's Linear biases: our head is fastai 1's `bn_drop_lin` (the Genomic ULMFiT
/// reference), a Linear *with* bias after each BatchNorm; fastai 2's `LinBnDrop` has none.
/// `HeadBias.fold` (the default) moves each bias into the preceding BatchNorm's bias:
/// `beta' = beta + W^T (W W^T)^-1 b`, so that `W beta' = W beta + b` and the model loads into
/// stock fastai 2 with `strict=True`. This is exact in evaluation (the shift passes straight
/// from BatchNorm to Linear); in training mode fastai's Dropout between them would now also
/// drop the folded shift, so a model trained further in fastai is not ours bit for bit. It
/// needs `W` of full row rank (out <= in, the case for every ULMFiT head); otherwise the export
/// says so. `HeadBias.keep` writes the biases as `1.layers.L.2.bias` instead, for a fastai 2
/// model whose head Linears are built with `bias=True` (fastai 1's layout).
public enum FastaiExport {
    public enum HeadBias: String, CaseIterable, Sendable {
        case fold
        case keep
    }

    /// One exported tensor.
    public struct Tensor: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        /// I64 instead of F32 (BatchNorm's `num_batches_tracked`).
        public var isInteger = false
    }

    /// fastai 2's state dict of `model`, in fastai's module order.
    /// - Throws: `CheckpointError` when a head bias cannot be folded.
    public static func stateDict(of model: ModelCheckpoint, headBias: HeadBias = .fold) throws -> [Tensor] {
        let encoderPrefix = model.kind == .languageModel ? "0." : "0.module."
        var out = try encoderTensors(model, prefix: encoderPrefix)
        switch model.kind {
        case .languageModel:
            let embedding = try take(model, "encoder.weight")
            out.append(Tensor(name: "1.decoder.weight", shape: embedding.shape, values: embedding.values))
            let bias = try take(model, "decoder.bias")
            out.append(Tensor(name: "1.decoder.bias", shape: bias.shape, values: bias.values))
        case .classifier:
            out += try headTensors(model, headBias: headBias)
        }
        return out
    }

    /// Writes `stateDict(of:headBias:)` to `path` (safetensors, atomically) and the vocabulary
    /// to `vocabularyPath(for: path)`. The header's metadata records what fastai needs to build
    /// the model (`fastai_config`, `pad_idx`, `n_class`, ...).
    public static func write(_ model: ModelCheckpoint, to path: String, headBias: HeadBias = .fold) throws {
        let tensors = try stateDict(of: model, headBias: headBias)
        let storage = tensors.map { t -> [UInt8] in
            if t.isInteger {
                return t.values.flatMap { v in withUnsafeBytes(of: Int64(v).littleEndian) { Array($0) } }
            }
            return t.values.withUnsafeBytes { Array($0) }   // Float32 is little-endian on every target
        }
        var shardTensors: [ShardTensor] = []
        var keepAlive: [UnsafeMutableRawBufferPointer] = []
        defer { keepAlive.forEach { $0.deallocate() } }
        for (t, bytes) in zip(tensors, storage) {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            keepAlive.append(buffer)
            shardTensors.append(ShardTensor(entry: SafeTensorsEntry(name: t.name, dtype: t.isInteger ? .i64 : .f32, shape: t.shape),
                                            bytes: UnsafeRawBufferPointer(buffer)))
        }
        try SafeTensors.writeAtomically(shardTensors, metadata: try metadata(of: model, headBias: headBias), to: path)
        let vocabulary = try JSONSerialization.data(withJSONObject: model.vocabularyTokens, options: [])
        let vocabularyPath = vocabularyPath(for: path)
        do {
            try vocabulary.write(to: URL(fileURLWithPath: vocabularyPath), options: .atomic)
        } catch {
            throw CheckpointError(file: vocabularyPath, "cannot write the vocabulary: \(error.localizedDescription)")
        }
    }

    /// `model.safetensors` -> `model.vocab.json`.
    public static func vocabularyPath(for path: String) -> String {
        (path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path) + ".vocab.json"
    }

    /// fastai's AWD_LSTM keyword arguments for `config` (`emb_sz`, `n_hid`, `n_layers`,
    /// `pad_token`, the five dropouts), as a JSON object.
    public static func fastaiConfig(_ config: AWDLSTMConfig) -> [String: Any] {
        ["emb_sz": config.embeddingSize, "n_hid": config.hiddenSize, "n_layers": config.layerCount, "pad_token": 0,
         "embed_p": Double(config.embedP), "input_p": Double(config.inputP), "weight_p": Double(config.weightP),
         "hidden_p": Double(config.hiddenP), "output_p": Double(config.outputP)]
    }

    // MARK: - Private

    private static func metadata(of model: ModelCheckpoint, headBias: HeadBias) throws -> [String: String] {
        func json(_ value: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
        }
        var m: [String: String] = [
            "format": "pt", "exporter": "genomic-ulmfit", "kind": model.kind.rawValue, "step": "\(model.step)",
            "vocab_size": "\(model.config.vocabSize)", "pad_idx": "0", "k": "\(model.k)", "stride": "\(model.stride)",
            "fastai_config": try json(fastaiConfig(model.config)),
        ]
        if model.kind == .classifier {
            let p = model.classifierParameters
            m["n_class"] = "\(p.classCount)"
            m["lin_ftrs"] = try json([p.linear0.outputSize])
            m["ps"] = try json(p.headDropouts.map(Double.init))
            m["head_bias"] = headBias.rawValue
        }
        return m
    }

    private static func take(_ model: ModelCheckpoint, _ name: String) throws -> (shape: [Int], values: [Float]) {
        guard let t = model.tensor(name) else {
            throw CheckpointError(file: model.manifestPath, field: "parameters.tensors", "has no tensor '\(name)'")
        }
        return (t.shape, Array(t.values))
    }

    private static func encoderTensors(_ model: ModelCheckpoint, prefix: String) throws -> [Tensor] {
        let embedding = try take(model, "encoder.weight")
        var out = [Tensor(name: prefix + "encoder.weight", shape: embedding.shape, values: embedding.values),
                   Tensor(name: prefix + "encoder_dp.emb.weight", shape: embedding.shape, values: embedding.values)]
        for l in 0 ..< model.config.layerCount {
            for (ours, theirs) in [("weight_hh", "weight_hh_l0_raw"), ("weight_ih", "module.weight_ih_l0"),
                                   ("bias_ih", "module.bias_ih_l0"), ("bias_hh", "module.bias_hh_l0")] {
                let t = try take(model, "rnns.\(l).\(ours)")
                out.append(Tensor(name: "\(prefix)rnns.\(l).\(theirs)", shape: t.shape, values: t.values))
            }
        }
        return out
    }

    private static func headTensors(_ model: ModelCheckpoint, headBias: HeadBias) throws -> [Tensor] {
        let p = model.classifierParameters
        var out: [Tensor] = []
        for (layer, (bn, linear)) in [(p.bn0, p.linear0), (p.bn1, p.linear1)].enumerated() {
            let prefix = "1.layers.\(layer)."
            let gamma = try take(model, name(bn.weight)), beta = try take(model, name(bn.bias))
            let weight = try take(model, name(linear.weight)), bias = try take(model, name(linear.bias))
            let C = bn.channels
            let mean = Array(model.statistics[bn.runningMeanOffset ..< bn.runningMeanOffset + C])
            let variance = Array(model.statistics[bn.runningVarOffset ..< bn.runningVarOffset + C])
            let betaOut = headBias == .fold
                ? try fold(bias: bias.values, into: beta.values, weight: weight.values, rows: linear.outputSize,
                           columns: linear.inputSize, layer: "\(prefix)0.bias", file: model.manifestPath)
                : beta.values
            out += [Tensor(name: prefix + "0.weight", shape: [C], values: gamma.values),
                    Tensor(name: prefix + "0.bias", shape: [C], values: betaOut),
                    Tensor(name: prefix + "0.running_mean", shape: [C], values: mean),
                    Tensor(name: prefix + "0.running_var", shape: [C], values: variance),
                    Tensor(name: prefix + "0.num_batches_tracked", shape: [], values: [Float(model.step)], isInteger: true)]
            // LinBnDrop: [BatchNorm1d, Dropout (only when p > 0), Linear].
            let linearIndex = p.headDropouts[layer] > 0 ? 2 : 1
            out.append(Tensor(name: prefix + "\(linearIndex).weight", shape: weight.shape, values: weight.values))
            if headBias == .keep {
                out.append(Tensor(name: prefix + "\(linearIndex).bias", shape: bias.shape, values: bias.values))
            }
        }
        return out
    }

    private static func name(_ spec: ParameterSpec) -> String { spec.name }

    /// `beta + W^T (W W^T)^-1 b` in Double (Cholesky of the `rows x rows` Gram matrix), checked
    /// after rounding to Float: `W beta' - (W beta + b)` must vanish to Float precision.
    static func fold(bias b: [Float], into beta: [Float], weight w: [Float], rows O: Int, columns I: Int,
                     layer: String, file: String) throws -> [Float] {
        func refuse(_ why: String) -> CheckpointError {
            CheckpointError(file: file, field: layer, "the head's Linear bias cannot be folded into the BatchNorm bias "
                + "(\(why)); export with --head-bias keep")
        }
        guard O <= I else { throw refuse("the Linear has \(O) outputs for \(I) inputs") }
        let W = w.map(Double.init)
        var G = [Double](repeating: 0, count: O * O)
        for r in 0 ..< O {
            for c in 0 ... r {
                var s = 0.0
                for k in 0 ..< I { s += W[r * I + k] * W[c * I + k] }
                G[r * O + c] = s
                G[c * O + r] = s
            }
        }
        // Cholesky G = L L^T, then y = G^-1 b by two triangular solves.
        var L = [Double](repeating: 0, count: O * O)
        for r in 0 ..< O {
            for c in 0 ... r {
                var s = G[r * O + c]
                for k in 0 ..< c { s -= L[r * O + k] * L[c * O + k] }
                if r == c {
                    guard s > 1e-12 * max(G[r * O + r], 1e-30) else { throw refuse("its weight matrix is rank-deficient") }
                    L[r * O + r] = s.squareRoot()
                } else {
                    L[r * O + c] = s / L[c * O + c]
                }
            }
        }
        var y = b.map(Double.init)
        for r in 0 ..< O {
            for k in 0 ..< r { y[r] -= L[r * O + k] * y[k] }
            y[r] /= L[r * O + r]
        }
        for r in stride(from: O - 1, through: 0, by: -1) {
            for k in r + 1 ..< O { y[r] -= L[k * O + r] * y[k] }
            y[r] /= L[r * O + r]
        }
        var folded = beta.map(Double.init)
        for k in 0 ..< I {
            for r in 0 ..< O { folded[k] += W[r * I + k] * y[r] }
        }
        let out = folded.map(Float.init)
        // Check: W out - (W beta + b), relative to the size of what it reproduces.
        var worst = 0.0, scale = 1e-30
        for r in 0 ..< O {
            var a = 0.0, target = Double(b[r]), magnitude = abs(Double(b[r]))
            for k in 0 ..< I {
                a += W[r * I + k] * Double(out[k])
                target += W[r * I + k] * Double(beta[k])
                magnitude += abs(W[r * I + k] * Double(out[k]))
            }
            worst = max(worst, abs(a - target))
            scale = max(scale, magnitude)
        }
        // Float32 rounding of out alone gives about 6e-8 * magnitude; allow 20x that.
        guard worst <= 1.2e-6 * scale else {
            throw refuse("the fold would move outputs by \(worst), too much for float32")
        }
        return out
    }
}
