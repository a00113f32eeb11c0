import CHwloc
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

/// A zeroed, at least 64-byte aligned Float buffer placed near one worker; freed on deinit.
public final class AlignedBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    public let policy: MemoryPolicy
    private let byteCount: Int
    private let topology: Topology?  // set when hwloc owns the memory

    fileprivate init(pointer: UnsafeMutablePointer<Float>, count: Int, byteCount: Int,
                     policy: MemoryPolicy, topology: Topology?) {
        self.pointer = pointer
        self.count = count
        self.byteCount = byteCount
        self.policy = policy
        self.topology = topology
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    deinit {
        if let topology {
            hwloc_free(topology.handle, pointer, byteCount)
        } else {
            free(pointer)
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
    /// the system allows it, else first-touch (see `AlignedBuffer.policy`).
    public func allocate(count: Int) -> AlignedBuffer {
        precondition(count >= 0, "cannot allocate \(count) floats")
        // Whole cache lines, at least one, so SIMD loops may read a full last line.
        let byteCount = max(64, (count * MemoryLayout<Float>.stride + 63) & ~63)
        if let raw = bindToNode(byteCount) {
            let pointer = raw.bindMemory(to: Float.self, capacity: byteCount / 4)
            pointer.initialize(repeating: 0, count: byteCount / 4)
            return AlignedBuffer(pointer: pointer, count: count, byteCount: byteCount,
                                 policy: .boundToNode(placement.numaNode), topology: topology)
        }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, byteCount) == 0, let raw else {
            fatalError("out of memory allocating \(byteCount) bytes for worker \(placement.worker)")
        }
        let pointer = raw.bindMemory(to: Float.self, capacity: byteCount / 4)
        pointer.initialize(repeating: 0, count: byteCount / 4)  // the first touch
        return AlignedBuffer(pointer: pointer, count: count, byteCount: byteCount,
                             policy: .firstTouch, topology: nil)
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
