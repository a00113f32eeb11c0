/// The plan for a data-parallel run: which worker goes on which unit and NUMA node.
///
/// Planning is pure (no threads start) so impossible requests fail with a `LayoutError`
/// before any work begins. The plan is built from *slots*: one per core (`.core`, `.numa`)
/// or per PU (`.pu`) among the allowed units; `.numa` workers get their node's whole cpuset.
/// The policy orders the slots; worker w takes slot w (or w mod slots when oversubscribed).
public struct WorkerLayout: Sendable, Equatable {
    public let spec: LayoutSpec
    public let unit: BindingUnit
    /// One placement per worker, in worker order.
    public let workers: [WorkerPlacement]
    /// Number of slots the workers were placed on (cores, or PUs for `.pu`).
    public let slotCount: Int

    public var workerCount: Int { workers.count }
    /// True when some slot holds more than one worker.
    public var isOversubscribed: Bool { workers.count > slotCount }

    public init(spec: LayoutSpec, topology: Topology) throws {
        self.spec = spec
        var unit = spec.unit ?? .core
        // Allowed units: an explicit list, or every unit of the machine.
        var allowed: [Int]
        if let text = spec.cpus {
            let list = try LocationList(text, topology: topology)
            if let requested = spec.unit, requested != list.unit {
                throw LayoutError.conflictingUnit(bind: requested, list: text)
            }
            unit = list.unit
            allowed = list.indices
        } else {
            allowed = Array(0..<topology.unitCount(unit))
        }
        self.unit = unit

        let slots = WorkerLayout.slots(unit: unit, allowed: allowed, topology: topology)
        guard !slots.isEmpty else { throw LayoutError.emptyList(spec.cpus ?? unit.rawValue) }
        let physicalCores = Set(slots.map(\.core)).count
        let count = spec.workers ?? physicalCores
        guard count >= 1 else { throw LayoutError.invalidWorkerCount(count) }
        guard count <= slots.count || spec.oversubscribe else {
            let available = spec.cpus ?? "\(unit == .pu ? "pu" : "core"):0-\(slots.count - 1)"
            throw LayoutError.tooManyWorkers(workers: count, units: slots.count, unit: unit, available: available)
        }
        let ordered = spec.policy == .compact ? slots : WorkerLayout.scatter(slots, unit: unit)
        workers = (0..<count).map { w in
            let slot = ordered[w % ordered.count]
            return WorkerPlacement(worker: w, unit: unit, unitIndex: slot.unitIndex, cpus: slot.cpus,
                                   numaNode: slot.numaNode, l3Group: unit == .numa ? nil : slot.l3Group)
        }
        slotCount = slots.count
    }

    /// A place one worker can go, with the keys scatter spreads over.
    private struct Slot {
        let unitIndex: Int
        let cpus: [Int]
        let package: Int
        let numaNode: Int
        let l3Group: Int?
        let core: Int
    }

    /// Slots in topology (compact) order.
    private static func slots(unit: BindingUnit, allowed: [Int], topology: Topology) -> [Slot] {
        func slot(_ core: Topology.Core, unitIndex: Int, cpus: [Int]) -> Slot {
            Slot(unitIndex: unitIndex, cpus: cpus, package: core.package, numaNode: core.numaNode,
                 l3Group: core.l3Group, core: core.logicalIndex)
        }
        switch unit {
        case .core:
            return allowed.map { slot(topology.cores[$0], unitIndex: $0, cpus: topology.cores[$0].cpus) }
        case .pu:
            return allowed.map {
                let pu = topology.pus[$0]
                return slot(topology.cores[pu.core], unitIndex: $0, cpus: [pu.osIndex])
            }
        case .numa:
            // One slot per core of each allowed node, all bound to the node's cpuset.
            return allowed.flatMap { node in
                topology.cores.filter { $0.numaNode == node }
                    .map { slot($0, unitIndex: node, cpus: topology.numaNodes[node].cpus) }
            }
        }
    }

    /// Scatter order: round-robin over packages, within each over NUMA nodes, then L3 groups,
    /// then (for PUs) cores, so the first workers land as far apart as possible.
    private static func scatter(_ slots: [Slot], unit: BindingUnit) -> [Slot] {
        var keys: [(Slot) -> Int] = [{ $0.package }, { $0.numaNode }]
        if unit != .numa { keys.append { $0.l3Group ?? -1 } }
        if unit == .pu { keys.append { $0.core } }
        return interleave(slots, keys: keys[...])
    }

    /// Groups `items` by the first key (groups in order of first appearance), orders each group
    /// recursively by the remaining keys, then deals one item from each group in turn.
    private static func interleave(_ items: [Slot], keys: ArraySlice<(Slot) -> Int>) -> [Slot] {
        guard let key = keys.first, items.count > 1 else { return items }
        var groupOrder: [Int] = []
        var groups: [Int: [Slot]] = [:]
        for item in items {
            let k = key(item)
            if groups[k] == nil { groupOrder.append(k) }
            groups[k, default: []].append(item)
        }
        let ordered = groupOrder.map { interleave(groups[$0]!, keys: keys.dropFirst()) }
        var result: [Slot] = []
        result.reserveCapacity(items.count)
        for round in 0..<(ordered.map(\.count).max() ?? 0) {
            for group in ordered where round < group.count { result.append(group[round]) }
        }
        return result
    }

    /// Contiguous, as-even-as-possible ranges covering `0..<count`: the first `count % parts`
    /// ranges get one element more (10 into 3 gives 0..<4, 4..<7, 7..<10). Ranges may be empty
    /// when `count < parts`.
    public static func split(count: Int, parts: Int) -> [Range<Int>] {
        precondition(parts > 0 && count >= 0, "split(count: \(count), parts: \(parts)) needs parts > 0 and count >= 0")
        let base = count / parts, extra = count % parts
        var start = 0
        return (0..<parts).map { part in
            let length = base + (part < extra ? 1 : 0)
            defer { start += length }
            return start..<(start + length)
        }
    }

    /// Checks that a batch of `batchSize` streams (sequences) can give every one of `workers`
    /// workers at least one; throws `LayoutError.batchTooSmall` (saying how to fix it) if not.
    public static func validateSplit(batchSize: Int, workers: Int) throws {
        guard workers >= 1 else { throw LayoutError.invalidWorkerCount(workers) }
        guard batchSize >= workers else { throw LayoutError.batchTooSmall(batchSize: batchSize, workers: workers) }
    }
}
