import CHwloc
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a worker thread found when it started.
public struct WorkerReport: Sendable, Equatable {
    public let worker: Int
    /// The planned unit, e.g. `core:3`.
    public let location: String
    /// OS indices of the PUs the thread is allowed to run on after binding (hwloc_get_cpubind);
    /// every PU the process may use when the pool was created with `bind: false`.
    public let allowedCPUs: [Int]
    /// `sched_getcpu()` sampled right after binding; always inside `allowedCPUs`.
    public let observedCPU: Int
    public let isBound: Bool
}

/// W workers, each pinned per a `WorkerLayout`, that run one closure per training step.
///
/// `run` wakes the workers, each calls `body(workerIndex)`, and `run` returns when all are done.
/// No thread is created per call: a call costs an atomic generation bump and a completion count
/// (a futex wake only for workers that went to sleep). Workers spin for a short while after each
/// call, then sleep on a futex, so an idle pool uses no CPU.
///
/// Worker 0 is the calling thread (as the master thread in OpenMP): W-1 threads are created,
/// and the thread that calls `run` is bound to worker 0's unit on its first call. With one
/// worker per core nobody is left waiting without a core: a separate waiting caller would
/// have to preempt a spinning worker each step, which measured ~40 us per call on 2 cores
/// versus ~1 us this way. Call `run` from one thread (another thread is bound on its first call
/// too); the caller's previous binding is restored when the pool is released on that thread.
public final class WorkerPool: @unchecked Sendable {
    public let layout: WorkerLayout
    public let topology: Topology
    /// One report per worker, gathered at start-up (worker 0's on the thread that created the pool).
    public let reports: [WorkerReport]
    /// A barrier for the W workers, for use inside `run` bodies (e.g. by `ReduceScatter`).
    public let barrier: SpinBarrier
    private let bind: Bool
    private let state: PoolState
    private var threads: [pthread_t] = []
    /// The thread acting as worker 0 and its binding before we pinned it.
    private var caller: (thread: pthread_t, previousCPUs: [Int])?

    public var workerCount: Int { layout.workerCount }

    /// Starts `layout.workerCount - 1` threads and binds the calling thread as worker 0; with
    /// `bind` each worker pins itself per the layout and verifies where it runs. Throws
    /// `BindingError` (after stopping the threads) if any fails.
    /// - Parameter spinNanoseconds: how long waiting workers spin before sleeping; defaults to
    ///   20 us, or 0 when workers outnumber units or PUs (spinning would steal the CPU of the
    ///   thread being waited for).
    public init(layout: WorkerLayout, topology: Topology, bind: Bool = true,
                spinNanoseconds: UInt64? = nil) throws {
        self.layout = layout
        self.topology = topology
        self.bind = bind
        let crowded = layout.isOversubscribed || layout.workerCount > topology.pus.count
        let spin = spinNanoseconds ?? (crowded ? 0 : 20_000)
        barrier = SpinBarrier(parties: layout.workerCount, spinNanoseconds: spin)
        let state = PoolState(workers: layout.workerCount, spinNanoseconds: spin)
        self.state = state

        var threads: [pthread_t] = []
        func stopAll() {
            state.stop()
            for thread in threads { pthread_join(thread, nil) }
        }
        do {
            for placement in layout.workers.dropFirst() {
                let start = ThreadStart {
                    state.starts[placement.worker] = WorkerPool.start(placement, topology: topology, bind: bind)
                    state.loop(worker: placement.worker)
                }
                threads.append(try WorkerPool.spawn(start))
            }
        } catch {
            stopAll()
            throw error
        }
        let previous = ThreadBinding.currentBinding(topology: topology)
        state.starts[0] = WorkerPool.start(layout.workers[0], topology: topology, bind: bind)
        if bind { caller = (pthread_self(), previous) }
        state.run { _ in }  // every worker has recorded its start-up result once this returns
        var reports: [WorkerReport] = []
        for w in 0..<layout.workerCount {
            switch state.starts[w]! {
            case .success(let report): reports.append(report)
            case .failure(let error):
                stopAll()
                if bind { ThreadBinding.bindCurrentThread(toCPUs: previous, topology: topology) }
                throw error
            }
        }
        self.reports = reports
        self.threads = threads
    }

    deinit {
        state.stop()
        for thread in threads { pthread_join(thread, nil) }
        if let caller, pthread_equal(caller.thread, pthread_self()) != 0 {
            ThreadBinding.bindCurrentThread(toCPUs: caller.previousCPUs, topology: topology)
        }
    }

    /// Runs `body(w)` on every worker w in 0..<workerCount (w = 0 on the calling thread) and
    /// returns when all have finished. Not reentrant: never call it from inside a body.
    public func run(_ body: @escaping (Int) -> Void) {
        if bind, caller.map({ pthread_equal($0.thread, pthread_self()) == 0 }) ?? true {
            let previous = ThreadBinding.currentBinding(topology: topology)
            // Binding worked for this unit at start-up; a failure now leaves the caller unpinned.
            try? ThreadBinding.bindCurrentThread(to: layout.workers[0], topology: topology)
            caller = (pthread_self(), previous)
        }
        state.run(body)
    }

    /// Like `run`, for bodies that throw: all workers finish, then the error of the lowest
    /// failing worker index is rethrown.
    public func runThrowing(_ body: @escaping (Int) throws -> Void) throws {
        let errors = WorkerSlots<Error?>(count: workerCount, initial: nil)
        run { w in
            do { try body(w) } catch { errors[w] = error }
        }
        if let error = errors.elements.first(where: { $0 != nil }) { throw error! }
    }

    /// The memory allocator for worker `w`; call its `allocate` from worker w's own thread
    /// (inside a `run` body).
    public func memory(worker w: Int) -> WorkerMemory {
        WorkerMemory(placement: layout.workers[w], topology: topology)
    }

    private static func start(_ placement: WorkerPlacement, topology: Topology,
                              bind: Bool) -> Result<WorkerReport, BindingError> {
        do {
            if bind { try ThreadBinding.bindCurrentThread(to: placement, topology: topology) }
            let allowed = ThreadBinding.currentBinding(topology: topology)
            let observed = ThreadBinding.currentCPU()
            if bind, !allowed.contains(observed) {
                throw BindingError(worker: placement.worker, location: placement.location,
                                   reason: "thread runs on CPU \(observed), outside its cpuset \(allowed)")
            }
            return .success(WorkerReport(worker: placement.worker, location: placement.location,
                                         allowedCPUs: allowed, observedCPU: observed, isBound: bind))
        } catch let error as BindingError {
            return .failure(error)
        } catch {
            return .failure(BindingError(worker: placement.worker, location: placement.location,
                                         reason: "\(error)"))
        }
    }

    /// Starts a thread with a 16 MB stack that runs `start.body` (also used by `ThreadedProcessGroup`).
    static func spawn(_ start: ThreadStart) throws -> pthread_t {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 16 << 20)  // deep model code runs here
        var thread = pthread_t()
        let context = Unmanaged.passRetained(start).toOpaque()
        let status = pthread_create(&thread, &attributes, { context in
            Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            throw BindingError(worker: -1, location: "-", reason: "pthread_create failed (\(status))")
        }
        return thread
    }
}

/// The closure a new pthread runs (pthread_create takes one C pointer).
final class ThreadStart {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// The state worker threads share with the pool. Separate from `WorkerPool` so the threads do
/// not keep the pool alive (its deinit stops them).
private final class PoolState: @unchecked Sendable {
    let workers: Int
    let spinNanoseconds: UInt64
    /// Bumped once per `run`; workers 1..<W wait for it to change.
    let generation = FutexWord()
    /// Bumped when the last of workers 1..<W finishes a `run`; worker 0 waits for it.
    let completed = FutexWord()
    let remaining = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let running = Atomic<Bool>(false)
    /// The current body. Written by worker 0 before the generation is published and cleared
    /// after completion is observed, so the other workers only read it in between.
    var job: ((Int) -> Void)?
    /// Start-up results, one per worker, written by that worker before its first run.
    let starts: WorkerSlots<Result<WorkerReport, BindingError>?>

    init(workers: Int, spinNanoseconds: UInt64) {
        self.workers = workers
        self.spinNanoseconds = spinNanoseconds
        starts = WorkerSlots(count: workers, initial: nil)
    }

    /// Worker 0's side of a run (on the calling thread).
    func run(_ body: @escaping (Int) -> Void) {
        precondition(!running.exchange(true, ordering: .acquiring), "WorkerPool.run is not reentrant")
        defer { running.store(false, ordering: .releasing) }
        guard workers > 1 else { return body(0) }
        job = body
        remaining.store(workers - 1, ordering: .sequentiallyConsistent)
        let done = completed.load()
        generation.publish(generation.load() &+ 1)
        body(0)
        completed.await(changeFrom: done, spinNanoseconds: spinNanoseconds)
        job = nil
    }

    func loop(worker: Int) {
        var seen: UInt32 = 0
        while true {
            seen = generation.await(changeFrom: seen, spinNanoseconds: spinNanoseconds)
            if stopping.load(ordering: .sequentiallyConsistent) { return }
            execute(worker)
            if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                completed.publish(completed.load() &+ 1)
            }
        }
    }

    /// Kept out of `loop` so the body's retain is released before completion is signalled.
    @inline(never)
    private func execute(_ worker: Int) {
        job!(worker)
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.publish(generation.load() &+ 1)
    }
}
