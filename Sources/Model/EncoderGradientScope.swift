/// Which of the encoder's gradients a backward pass must produce.
///
/// With gradual unfreezing most of the encoder is frozen for most stages: a frozen layer needs
/// no weight gradients, and nothing below the lowest trainable part needs a backward at all
/// (the work PyTorch's autograd skips for tensors that do not require grad). The classifier's
/// second ULMFiT stage (last LSTM layer and head) runs about a third of the full backward.
public struct EncoderGradientScope: Sendable, Equatable {
    /// The embedding table's gradient.
    public var embedding: Bool
    /// Per LSTM layer, bottom first: its weight and bias gradients.
    public var layers: [Bool]

    public init(embedding: Bool, layers: [Bool]) {
        self.embedding = embedding
        self.layers = layers
    }

    /// Every gradient (the language model, an unfrozen classifier).
    public static func all(layerCount: Int) -> EncoderGradientScope {
        EncoderGradientScope(embedding: true, layers: Array(repeating: true, count: layerCount))
    }

    /// No encoder gradient: the backward can be skipped entirely.
    public var isEmpty: Bool { !embedding && !layers.contains(true) }

    /// Whether layer `l` must pass a gradient to its input: something below it trains.
    func needsInputGradient(layer l: Int) -> Bool {
        embedding || layers[..<l].contains(true)
    }

    /// Whether layer `l` runs its backward at all: it trains, or something below it does.
    func needsBackward(layer l: Int) -> Bool {
        layers[l] || needsInputGradient(layer: l)
    }
}
