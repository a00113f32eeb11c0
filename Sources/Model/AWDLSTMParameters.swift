import SeededRandom

/// Where each AWD-LSTM encoder tensor lives in the flat parameter buffer.
///
/// Names follow PyTorch/fastai (`encoder.weight`, `rnns.L.weight_ih`, ...), so fixtures and
/// checkpoints map one to one. Groups: `embedding`, then one group per LSTM layer (`rnn.L`).
public struct AWDLSTMParameters: Sendable {
    public struct Layer: Sendable {
        public let weightIH, weightHH, biasIH, biasHH: ParameterSpec
    }

    public let config: AWDLSTMConfig
    /// [V, E], also the tied decoder's weight.
    public let embedding: ParameterSpec
    public let layers: [Layer]

    /// Adds the encoder's tensors to `layout`.
    public init(config: AWDLSTMConfig, layout: inout ParameterLayout) {
        self.config = config
        embedding = layout.add("encoder.weight", shape: [config.vocabSize, config.embeddingSize],
                               group: "embedding")
        layers = (0 ..< config.layerCount).map { l in
            let i = config.inputSize(layer: l), h = config.outputSize(layer: l)
            let g = "rnn.\(l)"
            return Layer(weightIH: layout.add("rnns.\(l).weight_ih", shape: [4 * h, i], group: g),
                         weightHH: layout.add("rnns.\(l).weight_hh", shape: [4 * h, h], group: g),
                         biasIH: layout.add("rnns.\(l).bias_ih", shape: [4 * h], group: g),
                         biasHH: layout.add("rnns.\(l).bias_hh", shape: [4 * h], group: g))
        }
    }

    /// fastai/PyTorch initialization: embedding U(-0.1, 0.1); every LSTM tensor
    /// U(-1/sqrt(H), 1/sqrt(H)) as `nn.LSTM` does.
    public func initialize(_ params: UnsafeMutablePointer<Float>, seed: UInt64) {
        func uniform(_ spec: ParameterSpec, _ bound: Float, _ tensor: Int) {
            var r = CounterRandom(seed: seed, RandomPurpose.initialization.rawValue, UInt64(tensor))
            for i in spec.range { params[i] = (2 * r.nextUnitFloat() - 1) * bound }
        }
        uniform(embedding, 0.1, 0)
        for (l, layer) in layers.enumerated() {
            let bound = 1 / Float(config.outputSize(layer: l)).squareRoot()
            for (k, spec) in [layer.weightIH, layer.weightHH, layer.biasIH, layer.biasHH].enumerated() {
                uniform(spec, bound, 1 + 4 * l + k)
            }
        }
    }
}
