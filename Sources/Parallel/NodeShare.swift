/// The part of its node a process's workers may use. A launcher (mpirun, srun) may start several
/// processes of one job on one node; unless told where, each would plan its workers on every
/// core and they would pin threads on the same ones. Process `index` of the `count` on the node
/// takes the `index`-th of `count` contiguous, near-equal shares of the node's units instead.
public struct NodeShare: Sendable, Equatable, CustomStringConvertible {
    /// This process among those on its node, 0..<count.
    public let index: Int
    /// Processes on the node.
    public let count: Int

    /// The whole node: one process on it (every single-process run).
    public static let whole = NodeShare(index: 0, count: 1)

    /// - Precondition: 0 <= index < count.
    public init(index: Int, count: Int) {
        precondition(count >= 1 && (0 ..< count).contains(index), "NodeShare(index: \(index), count: \(count))")
        self.index = index
        self.count = count
    }

    /// This process's units among `units` (nil for the whole node, or when there are fewer units
    /// than processes: then nothing is split and the layout's own checks apply).
    public func units(of units: Int) -> Range<Int>? {
        guard count > 1, units >= count else { return nil }
        return WorkerLayout.split(count: units, parts: count)[index]
    }

    /// `spec` confined to this share of the node's units (of `spec`'s binding unit, cores by
    /// default). Left alone when `spec` names its units (`cpus`: the user placed the processes),
    /// or when the launcher already confined this process to part of the node (srun
    /// --cpu-bind=cores, mpirun --bind-to socket: the calling thread may not run on every PU).
    public func apply(to spec: LayoutSpec, topology: Topology) -> LayoutSpec {
        let unit = spec.unit ?? .core
        guard spec.cpus == nil, let share = units(of: topology.unitCount(unit)),
              Set(ThreadBinding.currentBinding(topology: topology)).isSuperset(of: topology.pus.map(\.osIndex)) else {
            return spec
        }
        var shared = spec
        shared.cpus = "\(unit.rawValue):\(share.lowerBound)-\(share.upperBound - 1)"
        return shared
    }

    public var description: String { count == 1 ? "the whole node" : "share \(index + 1) of \(count) of the node" }
}
