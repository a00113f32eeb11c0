/// Where one worker runs: the unit it is bound to and what surrounds it.
public struct WorkerPlacement: Sendable, Equatable {
    /// Worker index, 0..<W.
    public let worker: Int
    public let unit: BindingUnit
    /// Logical index of the core, PU or NUMA node the worker is bound to.
    public let unitIndex: Int
    /// OS indices of the PUs in the binding cpuset. For `.core` the thread is bound to the
    /// first of them only (singlified), so it never hops between hyper-threads.
    public let cpus: [Int]
    /// Logical index of the NUMA node the worker's memory should live on.
    public let numaNode: Int
    /// Logical index of the worker's L3 group (nil if the machine reports none, or for `.numa`
    /// binding, where the thread may move between L3 groups of the node).
    public let l3Group: Int?

    /// The unit in location syntax, e.g. `core:3`.
    public var location: String { "\(unit.rawValue):\(unitIndex)" }
}
