import Model

extension OptimizerLayout {
    /// The optimizer's view of a model's flat parameter layout: layer groups in `groupOrder`
    /// (fastai's order, which freezing and discriminative learning rates count in), and
    /// fastai's `wd_bn_bias=False` exemptions: BatchNorm parameters and the biases of the
    /// decoder and the head's linear layers get no weight decay (LSTM biases do, as in fastai).
    public init(model: Model.ParameterLayout, groupOrder: [String]) throws {
        let groups = try groupOrder.map { name -> LayerGroup in
            guard let index = model.groupNames.firstIndex(of: name) else {
                throw TrainingError.invalidLayout("the model has no layer group \"\(name)\"")
            }
            return LayerGroup(name: name, ranges: model.ranges(ofGroup: index))
        }
        let exempt = model.specs
            .filter { $0.name == "decoder.bias" || ($0.name.hasPrefix("head.") && $0.name.hasSuffix(".bias"))
                || $0.name.hasPrefix("head.bn") }
            .map(\.range)
        try self.init(groups: groups, parameterCount: model.count, excludedFromWeightDecay: exempt)
    }
}
