import CHwloc
import Synchronization

/// A reusable barrier for a fixed group of threads: spin briefly, then sleep.
///
/// Sense reversal is done with a generation counter: each arrival reads the generation, the
/// last arrival resets the count and advances the generation, and the others wait for it to
/// change. Waiters spin for `spinNanoseconds` (a barrier between pinned threads on idle cores
/// takes well under a microsecond) and then sleep on a futex, because on a shared VM the thread
/// everyone waits for may be preempted for 50 us or more, and spinning then only steals its CPU.
///
/// Time spent waiting is accumulated per worker so a trainer can report "idle at barriers".
public final class SpinBarrier: @unchecked Sendable {
    public let parties: Int
    /// How long a waiter spins before sleeping (0 when threads outnumber CPUs).
    public let spinNanoseconds: UInt64
    private let arrived = Atomic<Int>(0)
    private let generation = FutexWord()
    /// Per-worker wait time in ns, one cache line (8 x UInt64) apart to avoid false sharing;
    /// slot w is written only by worker w.
    private let waited: UnsafeMutablePointer<UInt64>
    private static let stride = 8

    /// - Parameters:
    ///   - parties: the number of threads that must arrive before any may leave.
    ///   - spinNanoseconds: spin budget before sleeping; default 20 us.
    public init(parties: Int, spinNanoseconds: UInt64 = 20_000) {
        precondition(parties >= 1, "a barrier needs at least one party")
        self.parties = parties
        self.spinNanoseconds = spinNanoseconds
        waited = .allocate(capacity: parties * SpinBarrier.stride)
        waited.initialize(repeating: 0, count: parties * SpinBarrier.stride)
    }

    deinit { waited.deallocate() }

    /// Blocks until all `parties` threads have called `arriveAndWait`. `worker` (0..<parties)
    /// only selects the wait-time counter; every party must pass a distinct one.
    public func arriveAndWait(worker: Int) {
        let start = genomic_monotonic_ns()
        let current = generation.load()
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == parties {
            arrived.store(0, ordering: .relaxed)   // ordered before the publish below
            generation.publish(current &+ 1)
        } else {
            generation.await(changeFrom: current, spinNanoseconds: spinNanoseconds)
        }
        waited[worker * SpinBarrier.stride] &+= genomic_monotonic_ns() &- start
    }

    /// Nanoseconds `worker` has spent in `arriveAndWait` since creation or the last reset.
    /// Read it when the workers are not at the barrier (e.g. after `WorkerPool.run`).
    public func waitedNanoseconds(worker: Int) -> UInt64 { waited[worker * SpinBarrier.stride] }

    /// Zeroes every worker's wait time (call when no worker is at the barrier).
    public func resetWaitTimes() {
        for w in 0..<parties { waited[w * SpinBarrier.stride] = 0 }
    }
}
