/// One named parameter tensor inside the flat parameter buffer.
public struct ParameterSpec: Sendable, Equatable {
    /// PyTorch-style name, e.g. `rnns.1.weight_hh`.
    public let name: String
    /// Row-major shape, e.g. `[4H, H]`.
    public let shape: [Int]
    /// Offset of the first element in the flat buffer (a multiple of 16 floats).
    public let offset: Int
    /// Index of the layer group (embedding, each LSTM layer, head) for discriminative learning rates.
    public let group: Int

    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset ..< offset + count }
}

/// All parameters of a model in one flat buffer with named views (the llm.c layout).
///
/// One buffer makes the all-reduce a loop over one array, lets the optimizer state be sharded by
/// plain index ranges, and makes a checkpoint one contiguous write. Every tensor starts on a
/// 64-byte boundary so SIMD loops and per-worker slices stay aligned.
public struct ParameterLayout: Sendable, Equatable {
    public private(set) var specs: [ParameterSpec] = []
    /// Total floats including alignment padding.
    public private(set) var count: Int = 0
    /// Names of the layer groups, in order.
    public private(set) var groupNames: [String] = []

    public init() {}

    /// Appends a tensor to group `group` (created on first use) and returns its spec.
    @discardableResult
    public mutating func add(_ name: String, shape: [Int], group: String) -> ParameterSpec {
        precondition(!specs.contains { $0.name == name }, "duplicate parameter \(name)")
        let groupIndex: Int
        if let g = groupNames.firstIndex(of: group) {
            groupIndex = g
        } else {
            groupNames.append(group)
            groupIndex = groupNames.count - 1
        }
        let spec = ParameterSpec(name: name, shape: shape, offset: count, group: groupIndex)
        specs.append(spec)
        count += (spec.count + 15) / 16 * 16
        return spec
    }

    /// The spec named `name`; a missing name is a programming error.
    public subscript(name: String) -> ParameterSpec {
        guard let s = specs.first(where: { $0.name == name }) else {
            preconditionFailure("no parameter named \(name)")
        }
        return s
    }

    /// Index ranges of the flat buffer covered by group `group` (padding included, so the ranges
    /// of all groups tile the buffer).
    public func ranges(ofGroup group: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for (i, s) in specs.enumerated() where s.group == group {
            let end = i + 1 < specs.count ? specs[i + 1].offset : count
            if let last = out.last, last.upperBound == s.offset {
                out[out.count - 1] = last.lowerBound ..< end
            } else {
                out.append(s.offset ..< end)
            }
        }
        return out
    }
}
