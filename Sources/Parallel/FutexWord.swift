import CHwloc
import Synchronization

/// A 32-bit atomic at a stable address, which threads can spin on and then sleep on.
///
/// `Atomic` must not move while shared, and a futex needs its address, so the atomic lives in
/// its own allocation rather than in a class property. On Linux, `wait` uses a futex; elsewhere
/// it falls back to yielding the CPU (correct, just less efficient).
final class FutexWord: @unchecked Sendable {
    let atomic: UnsafeMutablePointer<Atomic<UInt32>>
    /// Threads currently asleep (or about to sleep) on the word; lets wakers skip the syscall.
    private let sleepers = Atomic<Int>(0)

    init(_ value: UInt32 = 0) {
        atomic = .allocate(capacity: 1)
        atomic.initialize(to: Atomic(value))
    }

    deinit {
        atomic.deinitialize(count: 1)
        atomic.deallocate()
    }

    func load() -> UInt32 { atomic.pointee.load(ordering: .sequentiallyConsistent) }
    func store(_ value: UInt32) { atomic.pointee.store(value, ordering: .sequentiallyConsistent) }

    /// Sleeps while the word still holds `expected`; may return spuriously.
    func wait(whileEqualTo expected: UInt32) {
        #if os(Linux)
        _ = genomic_futex_wait(UnsafeMutableRawPointer(atomic).assumingMemoryBound(to: UInt32.self), expected)
        #else
        sched_yield()
        #endif
    }

    /// Stores `value` and wakes every thread sleeping in `await`.
    func publish(_ value: UInt32) {
        store(value)
        guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
        #if os(Linux)
        _ = genomic_futex_wake_all(UnsafeMutableRawPointer(atomic).assumingMemoryBound(to: UInt32.self))
        #endif
    }

    /// Waits until the word differs from `value`: spins for up to `spinNanoseconds` (cheap
    /// when the other threads are about to arrive), then sleeps on the futex (cheap when a
    /// thread we wait for was preempted, common on shared VMs). Returns the new value.
    @discardableResult
    func await(changeFrom value: UInt32, spinNanoseconds: UInt64) -> UInt32 {
        var current = load()
        if current != value { return current }
        if spinNanoseconds > 0 {
            let deadline = genomic_monotonic_ns() &+ spinNanoseconds
            var spins = 0
            while current == value {
                genomic_cpu_relax()
                spins &+= 1
                // Read the clock only every 64 spins: it costs ~20 ns.
                if spins & 63 == 0, genomic_monotonic_ns() > deadline { break }
                current = load()
            }
            if current != value { return current }
        }
        // Announce the sleeper before re-checking (the futex re-checks atomically); `publish`
        // stores the new value first and then reads `sleepers`, so one of us sees the other.
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while current == value {
            wait(whileEqualTo: value)
            current = load()
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        return current
    }
}
