import CHwloc
import Synchronization

/// The machine's hardware topology as hwloc 2 reports it, loaded once and then read-only.
///
/// hwloc's topology handle is an `OpaquePointer`; a loaded topology is safe to read from many
/// threads (hwloc documents this), and we only mutate it in `init`/`deinit`, hence
/// `@unchecked Sendable`. Besides the handle (needed for binding calls) the object keeps a plain
/// Swift snapshot of the levels the trainer cares about: packages, NUMA nodes, L3 groups,
/// cores and processing units (PUs, i.e. hardware threads).
///
/// Indices: every object has a *logical* index (hwloc's `L#`, dense, in topology order, the
/// index used by location lists such as `core:0-7`) and an *OS* index (`P#`, what the kernel
/// calls it; `cpus` arrays always hold OS PU indices, which is what `sched_getcpu` returns).
public final class Topology: @unchecked Sendable {
    /// A processor package (socket).
    public struct Package: Sendable, Equatable {
        public let logicalIndex: Int
        public let osIndex: Int?
        /// OS indices of the PUs in this package.
        public let cpus: [Int]
    }

    /// A NUMA memory node.
    public struct NUMANode: Sendable, Equatable {
        public let logicalIndex: Int
        public let osIndex: Int?
        /// OS indices of the PUs local to this node.
        public let cpus: [Int]
        /// Local memory in bytes *as reported by hwloc*. On some VMs this differs from what
        /// `free` shows for the whole machine (e.g. ~12 GiB here vs 24 GiB); do not equate them.
        public let localMemoryBytes: UInt64
    }

    /// A group of cores sharing one L3 cache.
    public struct L3Group: Sendable, Equatable {
        public let logicalIndex: Int
        public let cpus: [Int]
        public let sizeBytes: UInt64
    }

    /// A physical core and where it sits.
    public struct Core: Sendable, Equatable {
        public let logicalIndex: Int
        public let osIndex: Int?
        /// Logical indices of the containing package, NUMA node and L3 group (nil if the
        /// machine reports no L3 cache).
        public let package: Int
        public let numaNode: Int
        public let l3Group: Int?
        /// OS indices of this core's PUs (hardware threads).
        public let cpus: [Int]
    }

    /// A processing unit (hardware thread).
    public struct PU: Sendable, Equatable {
        public let logicalIndex: Int
        public let osIndex: Int
        /// Logical index of the core holding this PU.
        public let core: Int
    }

    /// hwloc's topology handle (`hwloc_topology_t`), for binding calls.
    let handle: OpaquePointer
    /// True when the topology describes the machine we run on (false for synthetic ones,
    /// which can be planned against but not bound to).
    public let isThisSystem: Bool
    /// Where the topology came from: "this machine" or "synthetic: <description>".
    public let source: String

    public let packages: [Package]
    public let numaNodes: [NUMANode]
    public let l3Groups: [L3Group]
    public let cores: [Core]
    public let pus: [PU]

    /// Loads the topology of the machine we run on.
    public convenience init() throws {
        try self.init(synthetic: nil)
    }

    /// Loads a synthetic topology (hwloc's synthetic syntax, e.g.
    /// `"pack:2 numa:2 l3:2 core:4 pu:2"`) or, when `synthetic` is nil, this machine's.
    /// Synthetic topologies let layouts be planned and tested for machines we do not have.
    public init(synthetic: String?) throws {
        var topology: OpaquePointer?
        guard hwloc_topology_init(&topology) == 0, let topology else {
            throw TopologyError.loadFailed("hwloc_topology_init failed")
        }
        if let synthetic {
            guard hwloc_topology_set_synthetic(topology, synthetic) == 0 else {
                hwloc_topology_destroy(topology)
                throw TopologyError.loadFailed("hwloc rejected the synthetic description \"\(synthetic)\"")
            }
        }
        guard hwloc_topology_load(topology) == 0 else {
            hwloc_topology_destroy(topology)
            throw TopologyError.loadFailed("hwloc_topology_load failed")
        }
        handle = topology
        isThisSystem = hwloc_topology_is_thissystem(topology) != 0
        source = synthetic.map { "synthetic: \($0)" } ?? "this machine"

        let packageObjects = Topology.objects(topology, HWLOC_OBJ_PACKAGE)
        let numaObjects = Topology.objects(topology, HWLOC_OBJ_NUMANODE)
        let l3Objects = Topology.objects(topology, HWLOC_OBJ_L3CACHE)
        let puObjects = Topology.objects(topology, HWLOC_OBJ_PU)
        var coreObjects = Topology.objects(topology, HWLOC_OBJ_CORE)
        if coreObjects.isEmpty { coreObjects = puObjects }  // some platforms report no cores

        let allCPUs = puObjects.map { Int($0.pointee.os_index) }
        packages = packageObjects.isEmpty
            ? [Package(logicalIndex: 0, osIndex: nil, cpus: allCPUs)]
            : packageObjects.map {
                Package(logicalIndex: Int($0.pointee.logical_index), osIndex: Topology.osIndex($0),
                        cpus: Topology.cpus($0.pointee.cpuset))
            }
        numaNodes = numaObjects.map {
            NUMANode(logicalIndex: Int($0.pointee.logical_index), osIndex: Topology.osIndex($0),
                     cpus: Topology.cpus($0.pointee.cpuset),
                     localMemoryBytes: $0.pointee.attr?.pointee.numanode.local_memory ?? 0)
        }
        l3Groups = l3Objects.map {
            L3Group(logicalIndex: Int($0.pointee.logical_index), cpus: Topology.cpus($0.pointee.cpuset),
                    sizeBytes: $0.pointee.attr?.pointee.cache.size ?? 0)
        }
        let packageSets = packages.map { Set($0.cpus) }
        let numaSets = numaNodes.map { Set($0.cpus) }
        let l3Sets = l3Groups.map { Set($0.cpus) }
        // The first container holding all of the core's PUs (hwloc 2 attaches NUMA nodes as
        // memory children, so ancestry does not find them; cpuset inclusion does).
        func container(_ sets: [Set<Int>], _ cpus: [Int]) -> Int? {
            sets.firstIndex { cpus.allSatisfy($0.contains) }
                ?? sets.firstIndex { !$0.isDisjoint(with: cpus) }
        }
        cores = coreObjects.enumerated().map { index, object in
            let cpus = Topology.cpus(object.pointee.cpuset)
            return Core(logicalIndex: index, osIndex: Topology.osIndex(object),
                        package: container(packageSets, cpus) ?? 0,
                        numaNode: container(numaSets, cpus) ?? 0,
                        l3Group: container(l3Sets, cpus),
                        cpus: cpus)
        }
        var coreOfCPU: [Int: Int] = [:]
        for core in cores { for cpu in core.cpus { coreOfCPU[cpu] = core.logicalIndex } }
        pus = puObjects.map {
            let os = Int($0.pointee.os_index)
            return PU(logicalIndex: Int($0.pointee.logical_index), osIndex: os, core: coreOfCPU[os] ?? 0)
        }
    }

    deinit { hwloc_topology_destroy(handle) }

    /// The hwloc release we were compiled against (HWLOC_VERSION, e.g. "2.9.0"), with the
    /// runtime library's API version (which stays 2.8.0 across releases 2.8 and 2.9).
    public static var hwlocVersion: String {
        let v = hwloc_get_api_version()
        return "\(HWLOC_VERSION), API \(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)"
    }

    private static func objects(_ topology: OpaquePointer, _ type: hwloc_obj_type_t) -> [hwloc_obj_t] {
        let count = max(0, hwloc_get_nbobjs_by_type(topology, type))
        return (0..<count).compactMap { hwloc_get_obj_by_type(topology, type, UInt32($0)) }
    }

    private static func osIndex(_ object: hwloc_obj_t) -> Int? {
        let os = object.pointee.os_index
        return os == UInt32.max ? nil : Int(os)  // HWLOC_UNKNOWN_INDEX
    }

    /// The indices set in an hwloc bitmap, ascending.
    static func cpus(_ bitmap: OpaquePointer?) -> [Int] {
        guard let bitmap else { return [] }
        var result: [Int] = []
        var index = hwloc_bitmap_first(bitmap)
        while index >= 0 {
            result.append(Int(index))
            index = hwloc_bitmap_next(bitmap, index)
        }
        return result
    }
}

/// Failure to load a topology.
public enum TopologyError: Error, CustomStringConvertible {
    case loadFailed(String)

    public var description: String {
        switch self {
        case .loadFailed(let why): return "cannot load the hardware topology: \(why)"
        }
    }
}

extension Topology {
    private static let machineCache = Synchronization.Mutex<Topology?>(nil)

    /// This machine's topology, loaded on first use and shared afterwards (loading takes
    /// milliseconds and the result never changes while we run).
    public static func machine() throws -> Topology {
        try machineCache.withLock { cached in
            if let cached { return cached }
            let loaded = try Topology()
            cached = loaded
            return loaded
        }
    }
}
