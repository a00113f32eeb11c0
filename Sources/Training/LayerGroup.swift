/// A named set of ranges of the flat parameter buffer that share one learning rate and one
/// frozen flag (a fastai parameter group).
///
/// For the ULMFiT language model the groups are, in order: each LSTM layer, then the embedding
/// together with the decoder bias (the decoder weight is tied to the embedding). For the
/// classifier: embedding, each LSTM layer, then the head.
public struct LayerGroup: Sendable, Equatable {
    /// Name used in logs and error messages, e.g. `"lstm0"`.
    public var name: String
    /// Half-open index ranges into the flat parameter buffer; need not be contiguous.
    public var ranges: [Range<Int>]

    public init(name: String, ranges: [Range<Int>]) {
        self.name = name
        self.ranges = ranges
    }

    /// Number of parameters in the group.
    public var parameterCount: Int { ranges.reduce(0) { $0 + $1.count } }
}
