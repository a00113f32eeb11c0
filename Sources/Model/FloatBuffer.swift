/// An owned, 64-byte aligned, zero-initialized block of Floats.
///
/// Parameters, gradients, optimizer state and activation arenas are all `FloatBuffer`s: one flat
/// allocation each, reused every step, so hot loops work on raw pointers and never trigger
/// Array copy-on-write. Alignment to a cache line keeps SIMD loads aligned and keeps two
/// workers' slices from sharing a line.
public final class FloatBuffer: @unchecked Sendable {
    /// The first element. Valid for `count` elements until the buffer is deallocated.
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer count must be non-negative")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        // Zeroing here is also the first touch: called on a pinned worker thread, the pages
        // land on that worker's NUMA node.
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// The contents as an Array (for tests, checkpoints and reports, not hot loops).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer copy: sizes differ (\(other.count) vs \(count))")
        pointer.update(from: other.pointer, count: count)
    }
}
