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

/// W persistent worker threads, each pinned per a `WorkerLayout`, that run one closure per
/// training step.
///
/// `run` wakes all workers, each calls `body(workerIndex)`, and `run` returns when all are done.
/// No thread is created per call: a call costs a few microseconds (an atomic generation bump,
/// a futex wake when workers sleep, a completion count). Workers spin for a short while after
/// each call and then sleep on a futex, so an idle pool uses no CPU.
///
/// The calling thread does not act as worker 0; it waits (sleeping) until the workers finish.
/// That keeps its affinity untouched and every worker symmetric (each one bound, and owning
/// memory on its own node), at the price of one extra, mostly sleeping, thread.
public final class WorkerPool: @unchecked Sendable {
    public let layout: WorkerLayout
    public let topology: Topology
    /// One report per worker, gathered at start-up.
    public let reports: [WorkerReport]
    /// A barrier for the W workers, for use inside `run` bodies (e.g. by `ReduceScatter`).
    public let barrier: SpinBarrier
    private let state: PoolState
    private var threads: [pthread_t] = []

    public var workerCount: Int { layout.workerCount }

    /// Starts `layout.workerCount` threads; with `bind` each pins itself per the layout and
    /// verifies where it runs. Throws `BindingError` (after stopping the threads) if any fails.
    /// - Parameter spinNanoseconds: how long waiting workers spin before sleeping; defaults to
    ///   20 us, or 0 when the layout is oversubscribed (spinning would steal the CPU of the
    ///   thread being waited for).
    public init(layout: WorkerLayout, topology: Topology, bind: Bool = true,
                spinNanoseconds: UInt64? = nil) throws {
        self.layout = layout
        self.topology = topology
        let crowded = layout.isOversubscribed || layout.workerCount > topology.pus.count
        let spin = spinNanoseconds ?? (crowded ? 0 : 20_000)
        barrier = SpinBarrier(parties: layout.workerCount, spinNanoseconds: spin)
        state = PoolState(workers: layout.workerCount, spinNanoseconds: spin)

        let state = self.state
        var threads: [pthread_t] = []
        func stopAll() {
            state.stop()
            for thread in threads { pthread_join(thread, nil) }
        }
        do {
            for placement in layout.workers {
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
        state.run { _ in }  // every worker has recorded its start-up result once this returns
        var reports: [WorkerReport] = []
        for w in 0..<layout.workerCount {
            switch state.starts[w]! {
            case .success(let report): reports.append(report)
            case .failure(let error):
                stopAll()
                throw error
            }
        }
        self.reports = reports
        self.threads = threads
    }

    deinit { shutdown() }

    /// Runs `body(w)` on every worker w in 0..<workerCount and returns when all have finished.
    /// Not reentrant: call it from one thread at a time, never from inside a body.
    public func run(_ body: @escaping (Int) -> Void) {
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

    /// The memory allocator for worker `w`; call its `allocate` from worker w's own thread.
    public func memory(worker w: Int) -> WorkerMemory {
        WorkerMemory(placement: layout.workers[w], topology: topology)
    }

    private func shutdown() {
        guard !threads.isEmpty else { return }
        state.stop()
        for thread in threads { pthread_join(thread, nil) }
        threads = []
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

    private static func spawn(_ start: ThreadStart) throws -> pthread_t {
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
private final class ThreadStart {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// The state worker threads share with the pool. Separate from `WorkerPool` so the threads do
/// not keep the pool alive (its deinit stops them).
private final class PoolState: @unchecked Sendable {
    let workers: Int
    let spinNanoseconds: UInt64
    /// Bumped once per `run`; workers wait for it to change.
    let generation = FutexWord()
    /// Bumped when the last worker of a `run` finishes; the caller waits for it.
    let completed = FutexWord()
    let remaining = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    /// The current body. Written by the caller before the generation is published and cleared
    /// after completion is observed, so workers only read it in between.
    var job: ((Int) -> Void)?
    /// Start-up results, one per worker, written by that worker before its first run.
    let starts: WorkerSlots<Result<WorkerReport, BindingError>?>

    init(workers: Int, spinNanoseconds: UInt64) {
        self.workers = workers
        self.spinNanoseconds = spinNanoseconds
        starts = WorkerSlots(count: workers, initial: nil)
    }

    func run(_ body: @escaping (Int) -> Void) {
        job = body
        remaining.store(workers, ordering: .sequentiallyConsistent)
        let done = completed.load()
        generation.publish(generation.load() &+ 1)
        // The caller is not pinned: sleeping at once keeps it off the workers' cores.
        completed.await(changeFrom: done, spinNanoseconds: 0)
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
