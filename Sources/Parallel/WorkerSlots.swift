/// A fixed array with one slot per worker that workers write concurrently, each only its own.
///
/// A Swift `Array` stored in a shared object cannot be mutated from several threads (its
/// mutation goes through uniqueness checks and exclusive access to the whole array); this
/// keeps the slots in raw storage instead. Readers must be ordered after the writers (e.g.
/// read after `WorkerPool.run` returns).
public final class WorkerSlots<Element>: @unchecked Sendable {
    public let count: Int
    private let storage: UnsafeMutablePointer<Element>

    public init(count: Int, initial: Element) {
        self.count = count
        storage = .allocate(capacity: max(1, count))
        storage.initialize(repeating: initial, count: count)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    public subscript(index: Int) -> Element {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    public var elements: [Element] { Array(UnsafeBufferPointer(start: storage, count: count)) }
}
