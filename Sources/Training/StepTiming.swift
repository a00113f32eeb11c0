/// Where one training step's time went, in nanoseconds, averaged over the workers.
public struct StepTiming: Sendable, Equatable, Codable {
    /// Drawing dropout masks and packing the recurrent weights (shared, split across workers).
    public var prepare: Double = 0
    public var forward: Double = 0
    public var backward: Double = 0
    /// Summing this worker's slice of every gradient (reduce-scatter), without barrier waits.
    public var allReduce: Double = 0
    /// Weight-drop gradient masking, clipping norm and the AdamW update of this worker's slice.
    public var optimizer: Double = 0
    /// Exchanging with the other processes of a multi-process job (MPI): wall time of the
    /// exchanges of the step, which worker 0 drives while the other workers wait (their wait is
    /// counted here, not in `idle`). 0 for one process.
    public var communication: Double = 0
    /// Waiting at barriers for other workers.
    public var idle: Double = 0
    /// Wall time of the whole step as seen by the coordinator.
    public var wall: Double = 0

    public init() {}

    public static func + (a: Self, b: Self) -> Self {
        var s = a
        s.prepare += b.prepare; s.forward += b.forward; s.backward += b.backward
        s.allReduce += b.allReduce; s.optimizer += b.optimizer; s.communication += b.communication
        s.idle += b.idle; s.wall += b.wall
        return s
    }

    public func scaled(by f: Double) -> Self {
        var s = self
        s.prepare *= f; s.forward *= f; s.backward *= f; s.allReduce *= f
        s.optimizer *= f; s.communication *= f; s.idle *= f; s.wall *= f
        return s
    }
}
