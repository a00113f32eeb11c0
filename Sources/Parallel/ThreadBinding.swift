import CHwloc
#if canImport(Glibc)
import Glibc
#endif

/// Binds threads to CPUs through hwloc and reports where they run.
public enum ThreadBinding {
    /// Binds the calling thread to `placement`'s cpuset. For `.core` and `.pu` the cpuset is
    /// singlified first (one PU), so the kernel cannot move the thread between hyper-threads;
    /// `.numa` keeps the node's whole cpuset. Throws `BindingError` if hwloc refuses (e.g.
    /// for a synthetic topology, or PUs outside this process's allowed set).
    public static func bindCurrentThread(to placement: WorkerPlacement, topology: Topology) throws {
        guard topology.isThisSystem else {
            throw BindingError(worker: placement.worker, location: placement.location,
                               reason: "the topology (\(topology.source)) is not this machine's")
        }
        let set = bitmap(placement.cpus)
        defer { hwloc_bitmap_free(set) }
        if placement.unit != .numa { hwloc_bitmap_singlify(set) }
        guard hwloc_set_cpubind(topology.handle, set, Int32(HWLOC_CPUBIND_THREAD.rawValue)) == 0 else {
            throw BindingError(worker: placement.worker, location: placement.location,
                               reason: "hwloc_set_cpubind failed (errno \(errno))")
        }
    }

    /// Restores a binding saved with `currentBinding` (no singlify). Returns false if hwloc refuses.
    @discardableResult
    static func bindCurrentThread(toCPUs cpus: [Int], topology: Topology) -> Bool {
        guard !cpus.isEmpty else { return false }
        let set = bitmap(cpus)
        defer { hwloc_bitmap_free(set) }
        return hwloc_set_cpubind(topology.handle, set, Int32(HWLOC_CPUBIND_THREAD.rawValue)) == 0
    }

    /// OS indices of the PUs the calling thread is currently allowed to run on.
    public static func currentBinding(topology: Topology) -> [Int] {
        let set = hwloc_bitmap_alloc()
        defer { hwloc_bitmap_free(set) }
        guard hwloc_get_cpubind(topology.handle, set, Int32(HWLOC_CPUBIND_THREAD.rawValue)) == 0 else { return [] }
        return Topology.cpus(set)
    }

    /// The OS index of the PU the calling thread is running on right now (`sched_getcpu`);
    /// -1 if the kernel cannot tell.
    public static func currentCPU() -> Int { Int(sched_getcpu()) }

    /// The PU a `.core`/`.pu` worker ends up on after singlify (hwloc keeps the first PU).
    static func boundCPUs(_ placement: WorkerPlacement) -> [Int] {
        placement.unit == .numa ? placement.cpus : Array(placement.cpus.prefix(1))
    }

    /// A new hwloc bitmap holding `indices`; the caller frees it.
    static func bitmap(_ indices: [Int]) -> OpaquePointer {
        let set = hwloc_bitmap_alloc()!
        for index in indices { hwloc_bitmap_set(set, UInt32(index)) }
        return set
    }
}

/// A worker thread could not be bound where the layout says.
public struct BindingError: Error, Equatable, CustomStringConvertible {
    public let worker: Int
    public let location: String
    public let reason: String

    public var description: String { "cannot bind worker \(worker) to \(location): \(reason)" }
}
