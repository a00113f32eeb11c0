import SeededRandom

/// The classifier's parameters: the AWD-LSTM encoder plus the pooling head
/// BatchNorm1d(3E) -> Dropout -> Linear(3E, 50) -> ReLU -> BatchNorm1d(50) -> Dropout -> Linear(50, C).
/// BatchNorm running statistics are not parameters: they live in a separate statistics buffer.
public struct ClassifierParameters: Sendable {
    public let encoder: AWDLSTMParameters
    public let bn0: BatchNorm
    public let linear0: Linear
    public let bn1: BatchNorm
    public let linear1: Linear
    public let layout: ParameterLayout
    /// Floats of BatchNorm running statistics.
    public let statisticsCount: Int
    public let classCount: Int
    /// Dropout before each linear layer: [outputP of the config, 0.1] as fastai's
    /// PoolingLinearClassifier.
    public let headDropouts: [Float]

    public init(config: AWDLSTMConfig, classCount: Int = 2, headHidden: Int = 50,
                finalDropout: Float = 0.1) {
        var layout = ParameterLayout()
        encoder = AWDLSTMParameters(config: config, layout: &layout)
        let features = 3 * config.embeddingSize
        // Both Linear layers keep their bias, as fastai 1's `bn_drop_lin` (which the reference
        // study used) and its model description have it. fastai 2's `LinBnDrop` drops the bias
        // of a Linear that follows a BatchNorm (the BatchNorm's shift can absorb it); we keep the
        // reference's model.
        bn0 = BatchNorm(name: "head.bn0", channels: features, group: "head", layout: &layout,
                        statisticsOffset: 0)
        linear0 = Linear(name: "head.linear0", input: features, output: headHidden, group: "head", layout: &layout)
        bn1 = BatchNorm(name: "head.bn1", channels: headHidden, group: "head", layout: &layout,
                        statisticsOffset: BatchNorm.statisticsCount(channels: features))
        linear1 = Linear(name: "head.linear1", input: headHidden, output: classCount, group: "head", layout: &layout)
        statisticsCount = BatchNorm.statisticsCount(channels: features) + BatchNorm.statisticsCount(channels: headHidden)
        self.layout = layout
        self.classCount = classCount
        headDropouts = [config.outputP, finalDropout]
    }

    /// fastai's layer groups for the classifier: embedding, each LSTM layer, head.
    public var layerGroupOrder: [String] {
        ["embedding"] + (0 ..< encoder.config.layerCount).map { "rnn.\($0)" } + ["head"]
    }

    public func initialize(_ params: UnsafeMutablePointer<Float>, statistics: UnsafeMutablePointer<Float>,
                           seed: UInt64) {
        encoder.initialize(params, seed: seed)
        var r = CounterRandom(seed: seed, RandomPurpose.initialization.rawValue, 1000)
        linear0.initialize(params, random: &r)
        linear1.initialize(params, random: &r)
        bn0.initialize(params, statistics: statistics)
        bn1.initialize(params, statistics: statistics)
    }
}
