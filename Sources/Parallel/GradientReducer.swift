/// Sums the W workers' gradient buffers; each worker ends up owning one slice of the sum.
///
/// Contract: every worker calls `reduce(worker:)` once per step, after its own gradient buffer
/// is complete. On return, `reduced[slice]` holds the sum over all workers' gradients for the
/// returned slice (the worker's own), and the worker applies the optimizer update to exactly
/// that slice of the shared weights (optimizer state sharded the same way).
///
/// No all-gather follows: the weights live in one shared array, so once every worker has
/// updated its slice (and the step's `WorkerPool.run` has returned, or the workers pass a
/// barrier) every replica reads the new weights. Across processes, `HierarchicalReducer`
/// keeps this protocol: after the in-process reduce, worker 0 combines the processes' sums
/// (`ProcessGroup`), so every process holds the whole sum, then returns the same range.
public protocol GradientReducer: AnyObject, Sendable {
    var workerCount: Int { get }
    /// Number of parameters P.
    var count: Int { get }
    /// The sum of all gradients, P floats; valid for a worker's slice after its `reduce`.
    var reduced: UnsafeMutablePointer<Float> { get }
    /// The slice of 0..<P that worker `worker` owns (identical across steps).
    func slice(worker: Int) -> Range<Int>
    /// Called by all workers after their gradients are complete; returns the caller's slice.
    func reduce(worker: Int) -> Range<Int>
}
