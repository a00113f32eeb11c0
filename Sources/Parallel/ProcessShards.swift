/// How the G shards of a minibatch are spread over the processes of a job: process r holds the
/// contiguous global shards `ranges[r]`, and cuts them further over its own workers.
///
/// Shards are numbered globally, so a shard's slice of the minibatch (its streams or sequences,
/// and with them its dropout keys) is the same whatever the number of processes and threads:
/// 2 processes x 1 worker compute exactly the shards 1 process x 2 workers compute.
public struct ProcessShards: Sendable, Equatable {
    /// The global shards of each process, contiguous and in rank order.
    public let ranges: [Range<Int>]

    /// G: the number of shards in all.
    public var count: Int { ranges.last?.upperBound ?? 0 }

    /// One shard per worker: process r contributes `workers[r]` shards (its worker count).
    public init(workersPerProcess workers: [Int]) {
        precondition(!workers.isEmpty && workers.allSatisfy { $0 >= 1 }, "every process needs a worker: \(workers)")
        var start = 0
        ranges = workers.map { w in
            defer { start += w }
            return start ..< start + w
        }
    }

    /// Deterministic mode: a fixed number of shards, cut as evenly as possible over the processes.
    /// - Throws: `LayoutError.tooFewShards` when some process would get none.
    public init(shards: Int, processes: Int) throws {
        precondition(processes >= 1, "need at least one process")
        guard shards >= processes else { throw LayoutError.tooFewShards(shards: shards, processes: processes) }
        ranges = WorkerLayout.split(count: shards, parts: processes)
    }

    /// The process that holds global shard `shard`.
    public func process(holding shard: Int) -> Int {
        guard let r = ranges.firstIndex(where: { $0.contains(shard) }) else {
            preconditionFailure("shard \(shard) outside 0..<\(count)")
        }
        return r
    }
}
