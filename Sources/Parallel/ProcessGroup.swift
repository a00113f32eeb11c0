/// The processes of one training job (one per node, or per NUMA domain), each running its own
/// `WorkerPool`, and the few collective operations the trainers need between them.
///
/// Every process makes the same calls in the same order (they are collective), each from one
/// thread: worker 0 inside a `WorkerPool.run` body, or the coordinator between runs.
///
/// There is no error to handle: a transport that loses a process (one that died, or hangs past
/// the transport's timeout) ends the whole job with a message naming the rank. A synchronous
/// data-parallel step cannot go on without a rank's gradient; the recovery point is the last
/// checkpoint, which is written atomically.
///
/// Implementations: `SingleProcess` (one process, shared memory only) and `MPIProcessGroup`
/// (module Cluster: Open MPI, loaded at run time when the job was started by mpirun or srun).
public protocol ProcessGroup: AnyObject, Sendable {
    /// This process's index, 0..<size. Rank 0 alone prints and writes results.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// How the processes talk, for the run's log (e.g. "MPI (Open MPI v4.1.4), 2 processes").
    var transport: String { get }

    /// In place: `buffer[0..<count]` becomes the element-wise sum of every process's buffer.
    /// The order of the additions is the transport's: fixed for a given number of processes (runs
    /// repeat bitwise) but not the same for different numbers. `label` names the operation in a
    /// timeout message (e.g. "gradient all-reduce, step 12").
    func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, label: String)

    /// In place: `buffer` holds `counts[0]` floats of rank 0, then `counts[1]` of rank 1, and so
    /// on; each process has written its own part, and on return every process holds every part.
    func allGather(_ buffer: UnsafeMutablePointer<Float>, counts: [Int], label: String)

    /// Every process's `local` bytes, in rank order (small messages: step statistics, checks).
    func allGather(bytes local: [UInt8], label: String) -> [[UInt8]]

    /// Point-to-point transfers: each block of `outgoing` is sent to its rank, each block of
    /// `incoming` is filled from its rank; a sent and a received block match by (rank, tag).
    /// Blocks addressed to this process itself are not allowed (copy them directly).
    func exchange(outgoing: [FloatBlock], incoming: [FloatBlock], label: String)
}

/// A block of floats sent to, or received from, another process by `ProcessGroup.exchange`.
public struct FloatBlock: @unchecked Sendable {
    /// The other process.
    public var rank: Int
    /// Matches a sent block to a received one; 0 ..< `FloatBlock.maxTag`.
    public var tag: Int
    public var pointer: UnsafeMutablePointer<Float>
    public var count: Int

    /// Tags at or above this are reserved for the transport's own messages.
    public static let maxTag = 30_000

    public init(rank: Int, tag: Int, pointer: UnsafeMutablePointer<Float>, count: Int) {
        precondition(tag >= 0 && tag < FloatBlock.maxTag, "FloatBlock tag \(tag) outside 0..<\(FloatBlock.maxTag)")
        self.rank = rank
        self.tag = tag
        self.pointer = pointer
        self.count = count
    }
}

/// One process: every collective is the identity. The default of every trainer.
public final class SingleProcess: ProcessGroup {
    public let rank = 0
    public let size = 1
    public let transport: String

    /// - Parameter reason: why there is one process (e.g. "not started by mpirun or srun").
    public init(reason: String = "one process") {
        transport = "shared memory only (\(reason))"
    }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, label: String) {}
    public func allGather(_ buffer: UnsafeMutablePointer<Float>, counts: [Int], label: String) {
        precondition(counts.count == 1, "allGather over one process needs one count, got \(counts.count)")
    }
    public func allGather(bytes local: [UInt8], label: String) -> [[UInt8]] { [local] }
    public func exchange(outgoing: [FloatBlock], incoming: [FloatBlock], label: String) {
        precondition(outgoing.isEmpty && incoming.isEmpty, "a single process has nobody to exchange with")
    }
}

extension ProcessGroup {
    /// Whether this is the process that prints progress and writes results.
    public var isPrimary: Bool { rank == 0 }

    /// Every process's `values`, in rank order.
    public func allGather(_ values: [Double], label: String) -> [[Double]] {
        let bytes = values.withUnsafeBytes { Array($0) }
        return allGather(bytes: bytes, label: label).map { part in
            precondition(part.count % 8 == 0, "allGather of doubles received \(part.count) bytes")
            return part.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        }
    }

    /// The ranks whose `value` differs from rank 0's (empty when all agree). Collective: every
    /// process gets the same answer, so all of them can stop with the same error.
    public func ranksDiffering(from value: UInt64, label: String) -> [Int] {
        let all = allGather(bytes: withUnsafeBytes(of: value.littleEndian) { Array($0) }, label: label)
        return all.indices.filter { all[$0] != all[0] }
    }
}
