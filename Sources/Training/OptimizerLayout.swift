/// How the flat parameter buffer `[0, parameterCount)` splits into layer groups, and which
/// parameters are exempt from weight decay.
///
/// Validated once at construction: every parameter belongs to exactly one group. The layout is
/// then flattened into sorted `segments`, maximal runs sharing a group and a weight-decay flag,
/// so that a worker can walk the part of its slice in each segment without searching.
public struct OptimizerLayout: Sendable, Equatable {
    /// A maximal run of parameters with the same group and the same weight-decay flag.
    public struct Segment: Sendable, Equatable {
        public var range: Range<Int>
        /// Index into `groups`.
        public var group: Int
        /// False for parameters fastai leaves without weight decay (see `init`).
        public var appliesWeightDecay: Bool

        public init(range: Range<Int>, group: Int, appliesWeightDecay: Bool) {
            self.range = range
            self.group = group
            self.appliesWeightDecay = appliesWeightDecay
        }
    }

    /// Total number of parameters, P.
    public let parameterCount: Int
    /// The layer groups, in fastai order (freezing counts from the first).
    public let groups: [LayerGroup]
    /// Sorted, disjoint segments that exactly cover `0..<parameterCount`.
    public let segments: [Segment]

    /// - Parameters:
    ///   - groups: layer groups; together their ranges must cover `0..<parameterCount`
    ///     exactly once. Empty ranges are ignored.
    ///   - parameterCount: P, the length of the flat parameter and gradient buffers.
    ///   - excludedFromWeightDecay: ranges that get no weight decay. fastai's default
    ///     `wd_bn_bias=False` exempts every `bias` of a module that has one (for AWD-LSTM: the
    ///     decoder bias and the classifier head's Linear biases; not the LSTM biases, which
    ///     nn.LSTM names `bias_ih_l0`, ...) and all BatchNorm parameters.
    /// - Throws: `TrainingError.invalidLayout` naming the overlapping groups or the uncovered range.
    public init(groups: [LayerGroup], parameterCount: Int,
                excludedFromWeightDecay: [Range<Int>] = []) throws {
        guard parameterCount > 0 else {
            throw TrainingError.invalidLayout("parameterCount is \(parameterCount); it must be positive")
        }
        guard !groups.isEmpty else { throw TrainingError.invalidLayout("there are no layer groups") }
        var names = Set<String>()
        for group in groups where !names.insert(group.name).inserted {
            throw TrainingError.invalidLayout("two layer groups are named \"\(group.name)\"")
        }

        // (range, group) pieces sorted by start; a sweep finds overlaps and gaps.
        var pieces: [(range: Range<Int>, group: Int)] = []
        for (index, group) in groups.enumerated() {
            for range in group.ranges where !range.isEmpty {
                guard range.lowerBound >= 0, range.upperBound <= parameterCount else {
                    throw TrainingError.invalidLayout(
                        "group \"\(group.name)\" range \(range) is outside 0..<\(parameterCount)")
                }
                pieces.append((range, index))
            }
        }
        pieces.sort { $0.range.lowerBound < $1.range.lowerBound }
        var covered = 0
        for (position, piece) in pieces.enumerated() {
            if piece.range.lowerBound < covered {
                // Pieces before this one are disjoint, so the previous piece is the one it hits.
                let other = pieces[position - 1]
                throw TrainingError.invalidLayout(
                    "group \"\(groups[piece.group].name)\" range \(piece.range) overlaps "
                    + "group \"\(groups[other.group].name)\" range \(other.range)")
            }
            if piece.range.lowerBound > covered {
                throw TrainingError.invalidLayout(
                    "parameters \(covered..<piece.range.lowerBound) belong to no layer group")
            }
            covered = piece.range.upperBound
        }
        if covered < parameterCount {
            throw TrainingError.invalidLayout("parameters \(covered..<parameterCount) belong to no layer group")
        }

        for range in excludedFromWeightDecay where !range.isEmpty {
            guard range.lowerBound >= 0, range.upperBound <= parameterCount else {
                throw TrainingError.invalidLayout(
                    "weight-decay exclusion \(range) is outside 0..<\(parameterCount)")
            }
        }
        let exclusions = excludedFromWeightDecay.filter { !$0.isEmpty }

        // Cut the pieces at every exclusion boundary, then merge neighbours that agree.
        var cuts = Set<Int>()
        for range in exclusions { cuts.insert(range.lowerBound); cuts.insert(range.upperBound) }
        var segments: [Segment] = []
        for piece in pieces {
            let inner = cuts.filter { $0 > piece.range.lowerBound && $0 < piece.range.upperBound }.sorted()
            let bounds = [piece.range.lowerBound] + inner + [piece.range.upperBound]
            for (start, end) in zip(bounds, bounds.dropFirst()) {
                let decays = !exclusions.contains { $0.contains(start) }
                if let last = segments.last, last.range.upperBound == start,
                   last.group == piece.group, last.appliesWeightDecay == decays {
                    segments[segments.count - 1].range = last.range.lowerBound..<end
                } else {
                    segments.append(Segment(range: start..<end, group: piece.group, appliesWeightDecay: decays))
                }
            }
        }

        self.parameterCount = parameterCount
        self.groups = groups
        self.segments = segments
    }

    /// The segments that intersect `slice`, clipped to it, in order.
    public func segments(overlapping slice: Range<Int>) -> [Segment] {
        // Binary search for the first segment ending after the slice starts.
        var low = 0, high = segments.count
        while low < high {
            let mid = (low + high) / 2
            if segments[mid].range.upperBound <= slice.lowerBound { low = mid + 1 } else { high = mid }
        }
        var result: [Segment] = []
        var index = low
        while index < segments.count, segments[index].range.lowerBound < slice.upperBound {
            var segment = segments[index]
            segment.range = segment.range.clamped(to: slice)
            if !segment.range.isEmpty { result.append(segment) }
            index += 1
        }
        return result
    }

    /// Throws unless `slice` lies within `0..<parameterCount`.
    func checkSlice(_ slice: Range<Int>, what: String) throws {
        guard slice.lowerBound >= 0, slice.upperBound <= parameterCount else {
            throw TrainingError.sizeMismatch("\(what) \(slice) is outside the parameters 0..<\(parameterCount)")
        }
    }

    /// Throws unless `values` has one entry per group.
    func checkPerGroup<T>(_ values: [T], field: String) throws {
        guard values.count == groups.count else {
            throw TrainingError.groupCountMismatch(field: field, expected: groups.count, actual: values.count)
        }
    }
}
