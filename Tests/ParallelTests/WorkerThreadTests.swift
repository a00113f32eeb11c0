import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import Kernels
import Testing
@testable import Parallel

/// Tests that start pinned threads; serialized so they do not compete for the same cores.
@Suite(.serialized) struct WorkerThreadTests {
    @Test func boundThreadStaysOnItsUnit() throws {
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: LayoutSpec(), topology: topology)
        let pool = try WorkerPool(layout: layout, topology: topology)
        let samples = SampleSlots(workers: layout.workerCount, perWorker: 2_000)
        pool.run { w in
            var x: Float = 1
            for i in 0..<samples.perWorker {
                for _ in 0..<200 { x = x * 1.000001 + 1e-7 }  // some work, giving the kernel chances to migrate
                samples.store(worker: w, index: i, cpu: ThreadBinding.currentCPU() + (x.isNaN ? 1 : 0))
            }
        }
        for placement in layout.workers {
            let expected = ThreadBinding.boundCPUs(placement)
            #expect(expected.count == 1)
            let seen = Set(samples.cpus(worker: placement.worker))
            #expect(seen.isSubset(of: Set(expected)), "worker \(placement.worker) ran on \(seen), bound to \(expected)")
            #expect(pool.reports[placement.worker].allowedCPUs == expected)
            #expect(expected.contains(pool.reports[placement.worker].observedCPU))
        }
    }

    @Test func callerIsWorkerZeroAndGetsItsBindingBack() throws {
        let topology = try Topology.machine()
        let before = ThreadBinding.currentBinding(topology: topology)
        do {
            let layout = try WorkerLayout(spec: LayoutSpec(), topology: topology)
            let pool = try WorkerPool(layout: layout, topology: topology)
            let threads = WorkerSlots<pthread_t?>(count: layout.workerCount, initial: nil)
            pool.run { w in threads[w] = pthread_self() }
            #expect(pthread_equal(threads[0]!, pthread_self()) != 0)
            #expect(ThreadBinding.currentBinding(topology: topology) == ThreadBinding.boundCPUs(layout.workers[0]))
        }
        #expect(ThreadBinding.currentBinding(topology: topology) == before)
    }

    @Test func bindingToASyntheticTopologyFails() throws {
        let topology = try Topology(synthetic: "pack:1 core:2 pu:1")
        let layout = try WorkerLayout(spec: LayoutSpec(), topology: topology)
        let error = #expect(throws: BindingError.self) { try WorkerPool(layout: layout, topology: topology) }
        #expect(error?.description.contains("cannot bind worker 0 to core:0") == true)
    }

    @Test(arguments: [1, 2, 3, 5])
    func poolRunsEveryIndexOncePerCall(workers: Int) throws {
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: LayoutSpec(workers: workers, oversubscribe: true), topology: topology)
        let pool = try WorkerPool(layout: layout, topology: topology)
        let calls = 500
        let counter = Counters(workers)
        for call in 0..<calls {
            pool.run { w in counter.add(w) }
            // After run returns, every worker has run exactly once more.
            #expect(counter.snapshot() == Array(repeating: call + 1, count: workers))
            if counter.snapshot() != Array(repeating: call + 1, count: workers) { break }
        }
    }

    @Test func runThrowingRethrowsTheLowestWorkersError() throws {
        struct Failure: Error, Equatable { let worker: Int }
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: LayoutSpec(workers: 3, oversubscribe: true), topology: topology)
        let pool = try WorkerPool(layout: layout, topology: topology)
        #expect(throws: Failure(worker: 1)) {
            try pool.runThrowing { w in if w >= 1 { throw Failure(worker: w) } }
        }
        try pool.runThrowing { _ in }
    }

    @Test(arguments: [(2, UInt64(20_000)), (3, UInt64(0)), (4, UInt64(2_000))])
    func barrierSeparatesRounds(workers: Int, spin: UInt64) throws {
        // Each round every worker adds 1 to its counter, waits, then checks that every counter
        // reached the round number: a worker leaving early or a lost wake-up breaks this.
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: LayoutSpec(workers: workers, oversubscribe: true), topology: topology)
        let pool = try WorkerPool(layout: layout, topology: topology, spinNanoseconds: spin)
        let barrier = SpinBarrier(parties: workers, spinNanoseconds: spin)
        let counter = Counters(workers)
        let mismatches = Counters(workers)
        let rounds = 2_000
        pool.run { w in
            for round in 1...rounds {
                counter.add(w)
                barrier.arriveAndWait(worker: w)
                if counter.snapshot() != Array(repeating: round, count: workers) { mismatches.add(w) }
                barrier.arriveAndWait(worker: w)  // nobody starts the next round before all checked
            }
        }
        #expect(counter.snapshot() == Array(repeating: rounds, count: workers))
        #expect(mismatches.snapshot() == Array(repeating: 0, count: workers))
        let waited = (0..<workers).map { barrier.waitedNanoseconds(worker: $0) }
        #expect(waited.allSatisfy { $0 > 0 })
        barrier.resetWaitTimes()
        #expect((0..<workers).map { barrier.waitedNanoseconds(worker: $0) } == Array(repeating: 0, count: workers))
    }

    @Test func workerMemoryIsZeroedAlignedAndReportsItsPolicy() throws {
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: LayoutSpec(), topology: topology)
        let pool = try WorkerPool(layout: layout, topology: topology)
        let buffers = WorkerSlots<(buffer: FloatBuffer, policy: MemoryPolicy)?>(count: layout.workerCount, initial: nil)
        pool.run { w in buffers[w] = pool.memory(worker: w).allocate(count: 1003) }
        for (w, allocation) in buffers.elements.enumerated() {
            let (buffer, policy) = try #require(allocation)
            #expect(buffer.count == 1003)
            #expect(Int(bitPattern: buffer.pointer) % 64 == 0)
            #expect(buffer.buffer.allSatisfy { $0 == 0 })
            switch policy {
            case .boundToNode(let node): #expect(node == layout.workers[w].numaNode)
            case .firstTouch: #expect(policy.description == "first-touch by the bound worker")
            }
        }
    }
}

/// Per-worker counters; worker w increments only slot w, everyone may read.
final class Counters: @unchecked Sendable {
    private let values: UnsafeMutablePointer<Atomic<Int>>
    private let count: Int
    init(_ count: Int) {
        self.count = count
        values = .allocate(capacity: count)
        for i in 0..<count { (values + i).initialize(to: Atomic(0)) }
    }
    deinit {
        values.deinitialize(count: count)
        values.deallocate()
    }
    func add(_ w: Int) { values[w].add(1, ordering: .sequentiallyConsistent) }
    func snapshot() -> [Int] { (0..<count).map { values[$0].load(ordering: .sequentiallyConsistent) } }
}

/// sched_getcpu samples, worker w writing only its own row.
final class SampleSlots: @unchecked Sendable {
    let perWorker: Int
    private let storage: WorkerSlots<Int>
    init(workers: Int, perWorker: Int) {
        self.perWorker = perWorker
        storage = WorkerSlots(count: workers * perWorker, initial: -1)
    }
    func store(worker: Int, index: Int, cpu: Int) { storage[worker * perWorker + index] = cpu }
    func cpus(worker: Int) -> [Int] { Array(storage.elements[(worker * perWorker)..<((worker + 1) * perWorker)]) }
}

