#if canImport(Glibc)
import Glibc
#endif

/// Several processes simulated by threads of this one: a `ProcessGroup` with the semantics of a
/// real transport (every rank holds its own buffers; data moves only through the collectives)
/// and no MPI, so the default test suite can prove that N simulated processes train exactly as
/// one process does. Collectives sum in rank order. Not for production: the threads share the
/// machine's cores with the ranks' workers.
public final class ThreadedProcessGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public var size: Int { shared.size }
    public var transport: String { "threads standing for \(size) processes (tests)" }
    private let shared: Shared

    /// State the simulated ranks share: a barrier and one mailbox per rank.
    private final class Shared: @unchecked Sendable {
        let size: Int
        let barrier: SpinBarrier
        let pointers: WorkerSlots<UnsafeMutablePointer<Float>?>
        let bytes: WorkerSlots<[UInt8]>
        let blocks: WorkerSlots<[FloatBlock]>
        init(size: Int) {
            self.size = size
            barrier = SpinBarrier(parties: size, spinNanoseconds: 0)
            pointers = WorkerSlots(count: size, initial: nil)
            bytes = WorkerSlots(count: size, initial: [])
            blocks = WorkerSlots(count: size, initial: [])
        }
    }

    private init(rank: Int, shared: Shared) {
        self.rank = rank
        self.shared = shared
    }

    /// Runs `body(group)` for ranks 0..<size, each on its own thread, and returns the results in
    /// rank order (or the error of the lowest failing rank).
    public static func run<T>(size: Int, _ body: @escaping (ThreadedProcessGroup) throws -> T) throws -> [T] {
        precondition(size >= 1, "need at least one simulated process")
        let shared = Shared(size: size)
        let results = WorkerSlots<Result<T, Error>?>(count: size, initial: nil)
        var threads: [pthread_t] = []
        for r in 0 ..< size {
            // A rank's thread runs trainer code, as a worker thread does: the same 16 MB stack. A rank
            // that cannot start would leave the others waiting at their first collective: stop here.
            guard let thread = try? WorkerPool.spawn(ThreadStart({
                results[r] = Result { try body(ThreadedProcessGroup(rank: r, shared: shared)) }
            })) else { preconditionFailure("cannot start the thread of simulated rank \(r)") }
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
        return try results.elements.map { try $0!.get() }
    }

    private func sync() { shared.barrier.arriveAndWait(worker: rank) }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, label: String) {
        shared.pointers[rank] = buffer
        sync()
        let sum = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        defer { sum.deallocate() }
        ReduceScatter.sumInOrder((0 ..< size).map { UnsafePointer(shared.pointers[$0]!) }, count: count, into: sum)
        sync()   // everyone has read every buffer
        buffer.update(from: sum, count: count)
        sync()
    }

    public func allGather(_ buffer: UnsafeMutablePointer<Float>, counts: [Int], label: String) {
        precondition(counts.count == size, "allGather needs one count per process")
        shared.pointers[rank] = buffer
        sync()
        var start = 0
        for (q, n) in counts.enumerated() {
            if q != rank { (buffer + start).update(from: shared.pointers[q]! + start, count: n) }
            start += n
        }
        sync()
    }

    public func allGather(bytes local: [UInt8], label: String) -> [[UInt8]] {
        shared.bytes[rank] = local
        sync()
        let all = shared.bytes.elements
        sync()
        return all
    }

    public func exchange(outgoing: [FloatBlock], incoming: [FloatBlock], label: String) {
        shared.blocks[rank] = outgoing
        sync()
        for block in incoming {
            guard let sent = shared.blocks[block.rank].first(where: { $0.rank == rank && $0.tag == block.tag }) else {
                preconditionFailure("rank \(rank) expects tag \(block.tag) from rank \(block.rank), which sent none")
            }
            precondition(sent.count == block.count, "tag \(block.tag): \(sent.count) floats sent, \(block.count) expected")
            block.pointer.update(from: sent.pointer, count: block.count)
        }
        sync()
    }
}
