/// The AdamW state of one worker's slice of the flat parameter buffer, and the update of that
/// slice.
///
/// After the gradient reduce-scatter each worker owns a contiguous `range` of `[0, P)` (it may
/// cross layer-group boundaries) and only that worker reads or writes the moments of that
/// range, so state is sharded: P floats of each moment in total, whatever the worker count.
///
/// Create the shard on the worker thread that will use it: `init` zero-fills the moment
/// buffers, and that first touch places their pages on the worker's NUMA node.
///
/// Sharded checkpoints save `expAvg`, `expAvgSq` (raw Floats, `range.count` each) and
/// `stepCounts`; `restore(expAvg:expAvgSq:stepCounts:)` loads them back.
public final class AdamWShard: @unchecked Sendable {
    /// The slice of the flat parameter buffer this shard updates.
    public let range: Range<Int>
    /// First moment (fastai `grad_avg`) of `range`, element `i` for parameter `range.lowerBound + i`.
    public let expAvg: UnsafeMutableBufferPointer<Float>
    /// Second moment (fastai `sqr_avg`) of `range`.
    public let expAvgSq: UnsafeMutableBufferPointer<Float>
    /// Updates applied so far to each layer group (fastai keeps `step` per parameter; all
    /// parameters of a group share it). Frozen groups do not advance. Every shard counts every
    /// group, even one it does not intersect, so all shards hold the same counts.
    public private(set) var stepCounts: [Int]

    /// Allocates zeroed state for `range`; `groupCount` is the number of layer groups.
    public init(range: Range<Int>, groupCount: Int) {
        self.range = range
        expAvg = .allocate(capacity: range.count)
        expAvg.initialize(repeating: 0)
        expAvgSq = .allocate(capacity: range.count)
        expAvgSq.initialize(repeating: 0)
        stepCounts = Array(repeating: 0, count: groupCount)
    }

    deinit {
        expAvg.deallocate()
        expAvgSq.deallocate()
    }

    /// Applies one AdamW step to the parameters in `range`.
    ///
    /// - Parameters:
    ///   - params: element 0 of the whole flat parameter buffer (indices are absolute).
    ///   - grads: element 0 of the whole flat gradient buffer; only `range` is read.
    ///   - layout: the layer groups of the buffer.
    ///   - settings: this step's hyperparameters (per-group learning rates and frozen flags).
    /// - Throws: `TrainingError` if the shard, the layout and the settings disagree in size or the
    ///   settings are out of range; nothing is changed then.
    public func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                       layout: OptimizerLayout, settings: AdamWStepSettings) throws {
        try layout.checkSlice(range, what: "shard range")
        try layout.checkPerGroup(stepCounts, field: "shard stepCounts")
        try layout.checkPerGroup(settings.learningRates, field: "learningRates")
        try layout.checkPerGroup(settings.trainable, field: "trainable")
        try settings.validate()

        for group in stepCounts.indices where settings.trainable[group] {
            stepCounts[group] += 1
        }
        for segment in layout.segments(overlapping: range) where settings.trainable[segment.group] {
            let coefficients = AdamW.Coefficients(
                learningRate: settings.learningRates[segment.group], step: stepCounts[segment.group],
                beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps,
                weightDecay: settings.weightDecay, appliesWeightDecay: segment.appliesWeightDecay,
                gradScale: settings.gradScale)
            let local = segment.range.lowerBound - range.lowerBound
            AdamW.update(params: params + segment.range.lowerBound, grads: grads + segment.range.lowerBound,
                         expAvg: expAvg.baseAddress! + local, expAvgSq: expAvgSq.baseAddress! + local,
                         count: segment.range.count, coefficients)
        }
    }

    /// Replaces the state with saved values (a sharded checkpoint of the same `range`).
    /// - Throws: `TrainingError.sizeMismatch` if an array's length differs from the shard's.
    public func restore(expAvg savedAvg: [Float], expAvgSq savedSqr: [Float], stepCounts savedSteps: [Int]) throws {
        guard savedAvg.count == range.count, savedSqr.count == range.count else {
            throw TrainingError.sizeMismatch(
                "checkpoint moments have \(savedAvg.count) and \(savedSqr.count) floats; shard \(range) needs \(range.count)")
        }
        guard savedSteps.count == stepCounts.count else {
            throw TrainingError.groupCountMismatch(field: "checkpoint stepCounts", expected: stepCounts.count,
                                                   actual: savedSteps.count)
        }
        guard savedSteps.allSatisfy({ $0 >= 0 }) else {
            throw TrainingError.sizeMismatch("checkpoint stepCounts \(savedSteps) contain a negative count")
        }
        _ = expAvg.update(from: savedAvg)
        _ = expAvgSq.update(from: savedSqr)
        stepCounts = savedSteps
    }
}
