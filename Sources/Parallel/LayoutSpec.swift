/// What a worker thread is bound to.
public enum BindingUnit: String, Sendable, CaseIterable {
    /// One physical core (bound to a single PU of it, so the thread does not hop between
    /// hyper-threads).
    case core
    /// One hardware thread.
    case pu
    /// All PUs of a NUMA node: the thread may move between the node's cores but its memory
    /// stays local.
    case numa
}

/// How workers are spread over the available units.
public enum PlacementPolicy: String, Sendable, CaseIterable {
    /// Fill units in topology order: one package, then its L3 groups, before the next.
    /// Best when workers share data through caches; leaves whole sockets idle at low counts.
    case compact
    /// Round-robin across packages, then NUMA nodes, then L3 groups (then cores, for PUs):
    /// maximizes memory bandwidth and cache per worker at low worker counts.
    case scatter
}

/// The user's request for a worker layout; `WorkerLayout(spec:topology:)` turns it into a
/// plan or a `LayoutError`.
public struct LayoutSpec: Sendable, Equatable {
    /// Number of workers; nil means one per physical core among the allowed units.
    public var workers: Int?
    /// Binding unit; nil means the type of `cpus` if given, else `.core`.
    public var unit: BindingUnit?
    public var policy: PlacementPolicy
    /// Restricts the units to an explicit location list in hwloc-calc syntax with logical
    /// indices: `core:0-7`, `pu:0,2,4`, `numa:1`, `core:all`.
    public var cpus: String?
    /// Allow more workers than units (workers then share units round-robin; slower, but
    /// useful for testing worker-count independence on small machines).
    public var oversubscribe: Bool

    public init(workers: Int? = nil, unit: BindingUnit? = nil, policy: PlacementPolicy = .compact,
                cpus: String? = nil, oversubscribe: Bool = false) {
        self.workers = workers
        self.unit = unit
        self.policy = policy
        self.cpus = cpus
        self.oversubscribe = oversubscribe
    }
}
