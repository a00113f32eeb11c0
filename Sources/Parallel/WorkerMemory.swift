import CHwloc
import Memory
#if canImport(Glibc)
import Glibc
#endif

/// How a worker's memory was placed.
public enum MemoryPolicy: Sendable, Equatable, CustomStringConvertible {
    /// `hwloc_alloc_membind(HWLOC_MEMBIND_BIND | STRICT)` to the worker's NUMA node (logical
    /// index), then zeroed by the bound worker.
    case boundToNode(Int)
    /// Plain 64-byte aligned allocation; pages land on the node of the thread that first
    /// touches them, i.e. the bound worker, which zeroes the buffer.
    case firstTouch

    public var description: String {
        switch self {
        case .boundToNode(let node):
            return "hwloc_alloc_membind BIND to NUMA node \(node), zeroed by the bound worker"
        case .firstTouch:
            return "first-touch by the bound worker"
        }
    }
}

/// Allocates memory for one worker near the core it runs on.
///
/// Call `allocate` on the worker's own thread, after it has been bound: the buffer is zeroed
/// there, so even when explicit NUMA binding is unavailable (containers often forbid `mbind`)
/// first-touch places the pages on the worker's node.
public struct WorkerMemory: Sendable {
    public let placement: WorkerPlacement
    public let topology: Topology

    public init(placement: WorkerPlacement, topology: Topology) {
        self.placement = placement
        self.topology = topology
    }

    /// A zeroed buffer of `count` floats: bound to the worker's NUMA node through hwloc when
    /// the system allows it, else first-touch; `policy` says which.
    public func allocate(count: Int) -> (buffer: FloatBuffer, policy: MemoryPolicy) {
        precondition(count >= 0, "cannot allocate \(count) floats")
        let byteCount = FloatBuffer.byteCount(for: count)
        if let raw = bindToNode(byteCount) {
            #if os(Linux)
            // Huge pages where the mapping has whole 2 MB stretches (as FloatBuffer's big blocks);
            // advised before the first touch so the zeroing below faults them in as such.
            if byteCount >= 4 << 20 { _ = madvise(raw, byteCount, MADV_HUGEPAGE) }
            #endif
            raw.initializeMemory(as: Float.self, repeating: 0, count: byteCount / 4)
            let topology = self.topology
            let buffer = FloatBuffer(adopting: raw, count: count) { hwloc_free(topology.handle, $0, byteCount) }
            return (buffer, .boundToNode(placement.numaNode))
        }
        return (FloatBuffer(count: count), .firstTouch)   // zeroed here: the first touch
    }

    private func bindToNode(_ byteCount: Int) -> UnsafeMutableRawPointer? {
        guard topology.isThisSystem, topology.numaNodes.indices.contains(placement.numaNode),
              let osIndex = topology.numaNodes[placement.numaNode].osIndex else { return nil }
        let nodeset = ThreadBinding.bitmap([osIndex])  // nodesets hold OS indices
        defer { hwloc_bitmap_free(nodeset) }
        let flags = Int32(HWLOC_MEMBIND_STRICT.rawValue | HWLOC_MEMBIND_BYNODESET.rawValue)
        return hwloc_alloc_membind(topology.handle, byteCount, nodeset, HWLOC_MEMBIND_BIND, flags)
    }
}
