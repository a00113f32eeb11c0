import CHwloc

/// `GradientReducer` across processes: the workers of each process reduce in shared memory,
/// then the processes combine their results through a `ProcessGroup`, so that every process
/// ends the step with the same summed gradient and applies the same sharded AdamW update to
/// identical weights.
///
/// Two ways, one per training mode:
/// - default (`ordered: false`): the workers reduce-scatter their shards' gradients as on one
///   machine (`ReduceScatter`), then worker 0 all-reduces the process's sum across processes, one
///   transfer of P floats (MPI's ring or recursive algorithms; bandwidth cost ~2P(N-1)/N per
///   process). The additions across processes come in the transport's order, so the weights
///   match a one-process run to rounding (not bitwise).
/// - deterministic mode (`ordered: true`): the global sum must be ((g0 + g1) + g2) + ... over
///   the G shards in order, exactly as one process computes it, so partial sums cannot be
///   combined. Each process owns a slice of the parameters; every process sends each of its
///   shards' gradients for that slice to its owner, the owner's workers sum the G shards in shard
///   order, and the slices are all-gathered. Bitwise equal to one process with any number of
///   workers, at the price of moving every shard's gradient: (G/N) x the default's traffic.
///
/// With one process both are the shared-memory `ReduceScatter`, untouched.
public final class HierarchicalReducer: GradientReducer, @unchecked Sendable {
    public let group: ProcessGroup
    public let shards: ProcessShards
    public let ordered: Bool
    /// Names the step in a transport's timeout message; the coordinator sets it between steps.
    public var label = "gradient reduction"
    /// Nanoseconds worker 0 spent in the process group's calls during the last `reduce` (the
    /// cross-process communication; the other workers wait for it at a barrier). 0 for one process.
    public private(set) var communicationNanoseconds: UInt64 = 0
    private let local: ReduceScatter
    private let barrier: SpinBarrier
    /// This process's global shards.
    private let mine: Range<Int>
    /// Ordered mode: the slice of 0..<P each process owns, and the other processes' shards'
    /// gradients for this process's slice, one block of `owned.count` floats per shard.
    private let owners: [Range<Int>]
    private let received: UnsafeMutablePointer<Float>?

    /// - Parameters:
    ///   - count: P, the number of parameters.
    ///   - barrier: the barrier of this process's W workers (e.g. `pool.barrier`).
    ///   - group: the processes of the job.
    ///   - shards: the global shards of every process; this process attaches one gradient
    ///     buffer per shard it holds (`attach(source:gradient:)`, local index).
    ///   - ordered: deterministic mode (sum in global shard order).
    public init(count: Int, barrier: SpinBarrier, group: ProcessGroup, shards: ProcessShards, ordered: Bool) {
        precondition(shards.ranges.count == group.size,
                     "shards planned for \(shards.ranges.count) processes, the group has \(group.size)")
        self.group = group
        self.shards = shards
        self.ordered = ordered
        self.barrier = barrier
        mine = shards.ranges[group.rank]
        local = ReduceScatter(count: count, barrier: barrier, sources: mine.count)
        owners = ReduceScatter.slices(count: count, workers: group.size)
        if ordered && group.size > 1 {
            let blocks = shards.count - mine.count
            precondition(shards.count < FloatBlock.maxTag, "\(shards.count) shards: too many to tag")
            received = .allocate(capacity: max(1, blocks * owners[group.rank].count))
        } else {
            received = nil
        }
    }

    deinit { received?.deallocate() }

    public var workerCount: Int { local.workerCount }
    public var count: Int { local.count }
    public var reduced: UnsafeMutablePointer<Float> { local.reduced }
    public func slice(worker: Int) -> Range<Int> { local.slice(worker: worker) }

    /// Registers the gradient buffer of this process's `source`-th shard (global shard
    /// `shards.ranges[rank].lowerBound + source`), as `ReduceScatter.attach`.
    public func attach(source: Int, gradient: UnsafeMutablePointer<Float>) {
        local.attach(worker: source, gradient: gradient)
    }

    public func reduce(worker w: Int) -> Range<Int> {
        guard group.size > 1 else { return local.reduce(worker: w) }
        if !ordered {
            let slice = local.reduce(worker: w)
            if w == 0 { communicationNanoseconds = 0 }
            barrier.arriveAndWait(worker: w)  // this process's sum is complete
            if w == 0 { communicate { group.allReduceSum(local.reduced, count: count, label: label) } }
            barrier.arriveAndWait(worker: w)
            return slice
        }
        barrier.arriveAndWait(worker: w)      // every local shard's gradient is complete
        if w == 0 {
            communicationNanoseconds = 0
            communicate { exchangeShards() }
        }
        barrier.arriveAndWait(worker: w)
        sumOwnedSlice(part: w)
        barrier.arriveAndWait(worker: w)
        if w == 0 { communicate { group.allGather(local.reduced, counts: owners.map(\.count), label: label) } }
        barrier.arriveAndWait(worker: w)
        return local.slice(worker: w)
    }

    /// Runs `body` (worker 0's calls into the group) and adds its duration to `communicationNanoseconds`.
    private func communicate(_ body: () -> Void) {
        let start = genomic_monotonic_ns()
        body()
        communicationNanoseconds += genomic_monotonic_ns() - start
    }

    /// Ordered mode, worker 0: sends each local shard's gradient for every other owner's slice,
    /// and receives every other process's shards for this process's slice.
    private func exchangeShards() {
        let owned = owners[group.rank]
        var outgoing: [FloatBlock] = [], incoming: [FloatBlock] = []
        for (source, shard) in mine.enumerated() {
            for q in 0 ..< group.size where q != group.rank && !owners[q].isEmpty {
                outgoing.append(FloatBlock(rank: q, tag: shard, pointer: local.gradient(worker: source) + owners[q].lowerBound,
                                           count: owners[q].count))
            }
        }
        if !owned.isEmpty {
            for shard in 0 ..< shards.count where !mine.contains(shard) {
                incoming.append(FloatBlock(rank: shards.process(holding: shard), tag: shard,
                                           pointer: receivedBlock(shard), count: owned.count))
            }
        }
        group.exchange(outgoing: outgoing, incoming: incoming, label: label)
    }

    /// Where shard `shard`'s gradient for this process's slice was received (another process's shard).
    private func receivedBlock(_ shard: Int) -> UnsafeMutablePointer<Float> {
        let index = shard < mine.lowerBound ? shard : shard - mine.count
        return received! + index * owners[group.rank].count
    }

    /// Ordered mode, worker `part`: its piece of this process's slice, summed over the G shards in
    /// global shard order (local shards read in place, the others from `received`).
    private func sumOwnedSlice(part: Int) {
        let owned = owners[group.rank]
        let piece = ReduceScatter.slices(count: owned.count, workers: workerCount)[part]
        guard !piece.isEmpty else { return }
        let sources = (0 ..< shards.count).map { shard -> UnsafePointer<Float> in
            mine.contains(shard)
                ? UnsafePointer(local.gradient(worker: shard - mine.lowerBound) + owned.lowerBound + piece.lowerBound)
                : UnsafePointer(receivedBlock(shard) + piece.lowerBound)
        }
        ReduceScatter.sumInOrder(sources, count: piece.count, into: local.reduced + owned.lowerBound + piece.lowerBound)
    }
}
