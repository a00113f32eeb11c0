import Memory

/// Shared-memory reduce-scatter of W gradient buffers (`GradientReducer`).
///
/// Each worker owns a slice of 0..<P (slices are split evenly in units of 16 floats, so every
/// slice but the last starts and ends on a 64-byte line and no two workers write the same cache
/// line). `reduce(worker:)` waits at a barrier until all gradients are complete, then the
/// worker sums its slice over all W buffers in the fixed order 0, 1, ..., W-1 with SIMD8 and
/// writes it to `reduced`. There is no lock; the barrier is the only synchronization.
///
/// Determinism: element i is always ((g0[i] + g1[i]) + g2[i]) + ..., whatever the slicing or
/// the thread timing, so two runs with the same W give bitwise identical sums.
/// The result does depend on W (a different number of partial sums rounds differently),
/// unless the gradients come from a fixed number of `sources` that does not change with W:
/// the trainer's deterministic mode computes one gradient per fixed shard of the minibatch
/// (G sources, any W <= G workers) and the sum over G in order 0..G-1 is then independent of W.
public final class ReduceScatter: GradientReducer, @unchecked Sendable {
    public let workerCount: Int
    /// Number of gradient buffers summed (the workers' own, or the fixed shards').
    public let sourceCount: Int
    public let count: Int
    public var reduced: UnsafeMutablePointer<Float> { reducedBuffer.pointer }
    private let reducedBuffer: FloatBuffer
    private let gradients: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let slices: [Range<Int>]
    private let barrier: SpinBarrier

    /// Floats per slice granule: one 64-byte cache line.
    public static let alignment = 16
    /// Floats summed per tile: the destination tile stays in L1 while W sources stream by.
    private static let tile = 1024

    /// - Parameters:
    ///   - count: number of parameters P.
    ///   - barrier: the barrier of the W workers that will call `reduce` (e.g. `pool.barrier`).
    ///     `reduce` passes it once, with the worker's index.
    ///   - sources: number of gradient buffers to sum (default: one per worker).
    public init(count: Int, barrier: SpinBarrier, sources: Int? = nil) {
        precondition(count >= 0, "ReduceScatter needs a parameter count >= 0, got \(count)")
        workerCount = barrier.parties
        sourceCount = sources ?? barrier.parties
        precondition(sourceCount >= 1, "ReduceScatter needs at least one gradient source")
        self.count = count
        self.barrier = barrier
        slices = ReduceScatter.slices(count: count, workers: workerCount)
        // Not zeroed here: each owner's first write places its slice's pages (first touch).
        reducedBuffer = FloatBuffer(uninitializedCount: count)
        gradients = .allocate(capacity: sourceCount)
        gradients.initialize(repeating: nil, count: sourceCount)
    }

    deinit { gradients.deallocate() }

    /// Registers source `worker`'s gradient buffer (at least `count` floats, typically from
    /// `WorkerMemory.allocate` on the worker that fills it). Call before the first `reduce`;
    /// the buffer must outlive this object's use. Workers may attach concurrently (distinct slots).
    public func attach(worker: Int, gradient: UnsafeMutablePointer<Float>) {
        gradients[worker] = gradient
    }

    /// The gradient buffer of source `worker`.
    public func gradient(worker: Int) -> UnsafeMutablePointer<Float> {
        guard let buffer = gradients[worker] else { preconditionFailure("source \(worker) attached no gradient buffer") }
        return buffer
    }

    public func slice(worker: Int) -> Range<Int> { slices[worker] }

    /// The slices of `0..<count` that `workers` workers own: even in units of `alignment`
    /// floats (sharded checkpoints write one shard per slice).
    public static func slices(count: Int, workers: Int) -> [Range<Int>] {
        let granules = (count + alignment - 1) / alignment
        return WorkerLayout.split(count: granules, parts: workers).map {
            min(count, $0.lowerBound * alignment)..<min(count, $0.upperBound * alignment)
        }
    }

    public func reduce(worker: Int) -> Range<Int> {
        barrier.arriveAndWait(worker: worker)  // every gradient is complete past this point
        let range = slices[worker]
        let sources = (0..<sourceCount).map { UnsafePointer(gradient(worker: $0) + range.lowerBound) }
        ReduceScatter.sumInOrder(sources, count: range.count, into: reduced + range.lowerBound)
        return range
    }

    /// destination[i] = ((s0[i] + s1[i]) + s2[i]) + ... for i in 0..<count: the one summation
    /// order of every reduction here, whoever runs it (a worker of this process, or the owner of
    /// a slice across processes), so equal sources in equal order give bitwise equal sums.
    static func sumInOrder(_ sources: [UnsafePointer<Float>], count: Int, into destination: UnsafeMutablePointer<Float>) {
        precondition(!sources.isEmpty, "sumInOrder needs at least one source")
        var start = 0
        while start < count {
            let end = min(start + tile, count)
            sumTile(sources, start, end, destination)
            start = end
        }
    }

    /// destination[start..<end] = s0 + s1 + ..., accumulated in that order.
    private static func sumTile(_ sources: [UnsafePointer<Float>], _ start: Int, _ end: Int,
                                _ destination: UnsafeMutablePointer<Float>) {
        let vectorEnd = start + (end - start) / 8 * 8
        let first = sources[0]
        var i = start
        while i < vectorEnd {
            UnsafeMutableRawPointer(destination + i).storeBytes(
                of: UnsafeRawPointer(first + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        for j in vectorEnd..<end { destination[j] = first[j] }
        for source in sources.dropFirst() {
            i = start
            while i < vectorEnd {
                let sum = UnsafeRawPointer(destination + i).loadUnaligned(as: SIMD8<Float>.self)
                    + UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(destination + i).storeBytes(of: sum, as: SIMD8<Float>.self)
                i += 8
            }
            for j in vectorEnd..<end { destination[j] += source[j] }
        }
    }
}
