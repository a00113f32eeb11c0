/// Shapes and dropout probabilities of an AWD-LSTM (Merity et al. 2017, fastai semantics).
public struct AWDLSTMConfig: Sendable, Equatable, Codable {
    public var vocabSize: Int
    /// E: embedding size, also the last LSTM layer's output size (the decoder is tied).
    public var embeddingSize: Int = 400
    /// H: hidden size of every layer but the last.
    public var hiddenSize: Int = 1150
    public var layerCount: Int = 3
    /// Rows of the embedding matrix dropped per minibatch.
    public var embedP: Float = 0.02
    /// Locked dropout on the embedded input.
    public var inputP: Float = 0.25
    /// DropConnect on each hidden-to-hidden matrix.
    public var weightP: Float = 0.2
    /// Locked dropout between LSTM layers.
    public var hiddenP: Float = 0.15
    /// Locked dropout on the last layer's output (before the decoder or the pooling head).
    public var outputP: Float = 0.1

    /// fastai's `awd_lstm_lm_config` dropouts (hidden size 1150 as in the paper).
    public init(vocabSize: Int, embeddingSize: Int = 400, hiddenSize: Int = 1150,
                layerCount: Int = 3) {
        self.vocabSize = vocabSize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
    }

    /// fastai's `awd_lstm_clas_config` dropouts.
    public static func classifier(vocabSize: Int, embeddingSize: Int = 400, hiddenSize: Int = 1150,
                                  layerCount: Int = 3) -> AWDLSTMConfig {
        var c = AWDLSTMConfig(vocabSize: vocabSize, embeddingSize: embeddingSize,
                              hiddenSize: hiddenSize, layerCount: layerCount)
        c.embedP = 0.05; c.inputP = 0.4; c.weightP = 0.5; c.hiddenP = 0.3; c.outputP = 0.4
        return c
    }

    /// Every dropout probability multiplied by `dropMult` (fastai's `drop_mult`).
    public func scaled(dropMult: Float) -> AWDLSTMConfig {
        var c = self
        c.embedP *= dropMult; c.inputP *= dropMult; c.weightP *= dropMult
        c.hiddenP *= dropMult; c.outputP *= dropMult
        return c
    }

    /// All dropouts off (evaluation, gradient checks, parity tests).
    public var withoutDropout: AWDLSTMConfig { scaled(dropMult: 0) }

    /// Input size of layer `l`: E for the first layer, H after.
    public func inputSize(layer l: Int) -> Int { l == 0 ? embeddingSize : hiddenSize }
    /// Output (hidden) size of layer `l`: H, except E for the last layer.
    public func outputSize(layer l: Int) -> Int { l == layerCount - 1 ? embeddingSize : hiddenSize }

    /// Multiply-adds per token of one forward pass through the encoder (LSTM layers only).
    public var encoderMACsPerToken: Int {
        (0 ..< layerCount).reduce(0) { acc, l in
            let h = outputSize(layer: l)
            return acc + 4 * h * (inputSize(layer: l) + h)
        }
    }

    /// Training FLOPs per token of the classifier's encoder when `scope`'s gradients are made:
    /// the forward (2 per MAC), then per layer that runs a backward the recurrent gradient
    /// (dh_{t-1} = dG W_hh), its weight gradients if it trains and its input gradient if
    /// something below it trains. With every group trainable this is 3 x forward, the
    /// convention of `languageModelTrainingFLOPsPerToken` and the PyTorch peer.
    public func classifierTrainingFLOPsPerToken(scope: EncoderGradientScope) -> Double {
        var macs = encoderMACsPerToken
        for l in 0 ..< layerCount where scope.needsBackward(layer: l) {
            let h = outputSize(layer: l), i = inputSize(layer: l)
            macs += 4 * h * h
            if scope.layers[l] { macs += 4 * h * (i + h) }
            if scope.needsInputGradient(layer: l) { macs += 4 * h * i }
        }
        return 2 * Double(macs)
    }

    /// Training FLOPs per token for the language model: 3 x forward, forward = 2 MACs
    /// (the convention of ../shared/anchors/pytorch-cpu.md).
    public var languageModelTrainingFLOPsPerToken: Double {
        3 * 2 * Double(encoderMACsPerToken + embeddingSize * vocabSize)
    }

    /// Validates sizes and probabilities; the message names the field.
    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ why: String) throws {
            if !ok { throw ModelError.invalidConfig(field: field, reason: why) }
        }
        try check(vocabSize >= 2, "vocabSize", "must be at least 2 (padding and unknown), got \(vocabSize)")
        try check(embeddingSize >= 1, "embeddingSize", "must be positive, got \(embeddingSize)")
        try check(hiddenSize >= 1, "hiddenSize", "must be positive, got \(hiddenSize)")
        try check(layerCount >= 1, "layerCount", "must be positive, got \(layerCount)")
        for (name, p) in [("embedP", embedP), ("inputP", inputP), ("weightP", weightP),
                          ("hiddenP", hiddenP), ("outputP", outputP)] {
            try check(p >= 0 && p < 1, name, "must be in [0, 1), got \(p)")
        }
    }
}

/// Errors raised when a model is configured or loaded wrongly.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(field: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidConfig(field, reason): return "invalid model config: \(field) \(reason)"
        }
    }
}
