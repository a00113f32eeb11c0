#if canImport(Glibc)
import Glibc
#endif

/// An owned, 64-byte aligned block of Floats: the one buffer type of the project.
///
/// Parameters, gradients, optimizer state and activation arenas are all `FloatBuffer`s: one flat
/// allocation each, reused every step, so hot loops work on raw pointers and never trigger
/// Array copy-on-write. Alignment to a cache line keeps SIMD loads aligned and keeps two
/// workers' slices from sharing a line. The capacity is rounded up to whole cache lines, so a
/// SIMD loop may read the full last line.
public final class FloatBuffer: @unchecked Sendable {
    /// The first element. Valid for `count` elements until the buffer is deallocated.
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let release: (UnsafeMutableRawPointer) -> Void

    /// Bytes to allocate for `count` floats: whole 64-byte lines, at least one.
    public static func byteCount(for count: Int) -> Int {
        max(64, (count * MemoryLayout<Float>.stride + 63) & ~63)
    }

    /// A zeroed buffer. Zeroing is also the first touch: called on a pinned worker thread, the
    /// pages land on that worker's NUMA node.
    public convenience init(count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: 0, count: Self.byteCount(for: count) / 4)
    }

    /// A buffer whose contents are undefined until written: for buffers whose parts are first
    /// touched by different threads (e.g. each worker's slice of the reduced gradient).
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "FloatBuffer count must be non-negative, got \(count)")
        self.count = count
        guard let raw = LargeAllocation.allocate(bytes: Self.byteCount(for: count)) else {
            fatalError("out of memory allocating \(Self.byteCount(for: count)) bytes")
        }
        pointer = raw.bindMemory(to: Float.self, capacity: Self.byteCount(for: count) / 4)
        release = { free($0) }
    }

    /// Takes ownership of memory from another allocator (e.g. hwloc's NUMA-bound allocation),
    /// at least `byteCount(for: count)` bytes, 64-byte aligned, already initialized;
    /// `deallocate` frees it.
    public init(adopting raw: UnsafeMutableRawPointer, count: Int,
                deallocate: @escaping (UnsafeMutableRawPointer) -> Void) {
        precondition(Int(bitPattern: raw) % 64 == 0, "adopted memory must be 64-byte aligned")
        self.count = count
        pointer = raw.assumingMemoryBound(to: Float.self)
        release = deallocate
    }

    /// A copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { release(UnsafeMutableRawPointer(pointer)) }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// The contents as an Array (for tests, checkpoints and reports, not hot loops).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer copy: sizes differ (\(other.count) vs \(count))")
        pointer.update(from: other.pointer, count: count)
    }
}
