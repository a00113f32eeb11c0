import Testing
@testable import Parallel

/// The cross-process reduction, with processes simulated by threads (`ThreadedProcessGroup`), so
/// these run without MPI. The same reducer code runs over MPI in ClusterTests.
@Suite(.serialized) struct HierarchicalReducerTests {
    /// Shard `shard`'s gradient at `index`: varied exponents and signs, so the order of the
    /// additions changes the rounding.
    static func value(shard: Int, index: Int) -> Float {
        ReduceScatterTests.value(worker: shard, index: index)
    }

    /// Every process's reduced gradient, with `processes` processes of `workers` workers each
    /// holding the global shards `shards.ranges[rank]`.
    static func reduce(processes: Int, workers: Int, shards: ProcessShards, ordered: Bool,
                       count: Int) throws -> [[Float]] {
        try ThreadedProcessGroup.run(size: processes) { group in
            let topology = try Topology.machine()
            let pool = try WorkerPool(layout: WorkerLayout(spec: LayoutSpec(workers: workers, oversubscribe: true),
                                                           topology: topology),
                                      topology: topology, bind: false)
            let reducer = HierarchicalReducer(count: count, barrier: pool.barrier, group: group, shards: shards,
                                              ordered: ordered)
            let mine = shards.ranges[group.rank]
            let buffers = mine.map { shard in (0 ..< count).map { value(shard: shard, index: $0) } }
            let pointers = buffers.map { b -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
                p.initialize(from: b, count: count)
                return p
            }
            defer { pointers.forEach { $0.deallocate() } }
            for (source, p) in pointers.enumerated() { reducer.attach(source: source, gradient: p) }
            let slices = WorkerSlots<Range<Int>>(count: workers, initial: 0 ..< 0)
            pool.run { w in slices[w] = reducer.reduce(worker: w) }
            // The workers' slices cover 0..<P, each exactly once.
            #expect(slices.elements.flatMap { Array($0) } == Array(0 ..< count))
            return Array(UnsafeBufferPointer(start: reducer.reduced, count: count))
        }
    }

    /// ((s0 + s1) + s2) + ... in shard order, one element at a time.
    static func serialSum(shards: Int, count: Int) -> [Float] {
        (0 ..< count).map { i in (1 ..< shards).reduce(value(shard: 0, index: i)) { $0 + value(shard: $1, index: i) } }
    }

    /// Deterministic mode: every process gets exactly the single-process sum over the G shards in
    /// order, whatever the number of processes and of workers per process.
    @Test(arguments: [(2, 1, 2), (2, 2, 4), (3, 1, 5), (2, 3, 7), (4, 1, 4)])
    func orderedModeIsBitwiseTheSingleProcessSum(layout: (processes: Int, workers: Int, shards: Int)) throws {
        let count = 1_000 + 13   // several 16-float granules per owner and worker, and a ragged tail
        let shards = try ProcessShards(shards: layout.shards, processes: layout.processes)
        let results = try Self.reduce(processes: layout.processes, workers: layout.workers, shards: shards,
                                      ordered: true, count: count)
        let expected = Self.serialSum(shards: layout.shards, count: count)
        for (rank, result) in results.enumerated() {
            #expect(Self.bitwiseMismatches(result, expected) == 0,
                    "rank \(rank) of \(layout.processes) x \(layout.workers) workers, \(layout.shards) shards")
        }
    }

    /// Default mode: every process gets the same sum, equal to the serial sum to rounding. The
    /// additions come in another order (per-process partial sums, then across processes), so
    /// equality is to a tolerance: with G terms of magnitude below 2^6 / 3 (the test values),
    /// reordering moves the result by at most G rounding steps of the largest partial sum,
    /// G x 2^-24 x G x 2^6 / 3 < 1e-4 for G <= 8.
    @Test(arguments: [(2, 1), (2, 2), (3, 2), (4, 1)])
    func defaultModeMatchesTheSerialSumToRounding(layout: (processes: Int, workers: Int)) throws {
        let count = 1_000 + 13
        let shards = ProcessShards(workersPerProcess: [Int](repeating: layout.workers, count: layout.processes))
        let results = try Self.reduce(processes: layout.processes, workers: layout.workers, shards: shards,
                                      ordered: false, count: count)
        let expected = Self.serialSum(shards: shards.count, count: count)
        for result in results {
            #expect(Self.bitwiseMismatches(result, results[0]) == 0, "every process must hold the same sum, bitwise")
        }
        let worst = zip(results[0], expected).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "largest difference from the serial sum: \(worst)")
    }

    /// One process: the reducer is the shared-memory reduce-scatter.
    @Test func oneProcessIsTheReduceScatter() throws {
        let count = 517
        let shards = try ProcessShards(shards: 3, processes: 1)
        let result = try Self.reduce(processes: 1, workers: 2, shards: shards, ordered: true, count: count)
        #expect(Self.bitwiseMismatches(result[0], Self.serialSum(shards: 3, count: count)) == 0)
    }

    /// Elements whose bit patterns differ (a count, so a failure does not print every element).
    static func bitwiseMismatches(_ a: [Float], _ b: [Float]) -> Int {
        a.count != b.count ? max(a.count, b.count) : zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    }
}

@Suite struct ProcessShardsTests {
    @Test func oneShardPerWorkerInRankOrder() {
        let shards = ProcessShards(workersPerProcess: [2, 3, 1])
        #expect(shards.ranges == [0 ..< 2, 2 ..< 5, 5 ..< 6])
        #expect(shards.count == 6)
        #expect((0 ..< 6).map(shards.process(holding:)) == [0, 0, 1, 1, 1, 2])
    }

    @Test func fixedShardsSplitEvenly() throws {
        #expect(try ProcessShards(shards: 5, processes: 2).ranges == [0 ..< 3, 3 ..< 5])
        #expect(try ProcessShards(shards: 4, processes: 4).ranges == [0 ..< 1, 1 ..< 2, 2 ..< 3, 3 ..< 4])
    }

    @Test func fewerShardsThanProcessesIsAClearError() {
        #expect(throws: LayoutError.tooFewShards(shards: 2, processes: 3)) { try ProcessShards(shards: 2, processes: 3) }
        #expect(LayoutError.tooFewShards(shards: 2, processes: 3).description.contains("--deterministic-shards 3"))
    }
}
