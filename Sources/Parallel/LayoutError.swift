/// Why a worker layout (or a batch split across workers) is impossible. Raised while
/// planning, before any thread starts; each message says what to change.
public enum LayoutError: Error, Equatable, CustomStringConvertible {
    /// More workers than units and no `oversubscribe`.
    case tooManyWorkers(workers: Int, units: Int, unit: BindingUnit, available: String)
    /// A worker count below one.
    case invalidWorkerCount(Int)
    /// A location names a unit the machine does not have, e.g. `core:99`.
    case noSuchUnit(location: String, unit: BindingUnit, index: Int, count: Int)
    /// An empty location list (`""`, `"core:"`).
    case emptyList(String)
    /// A location list that does not parse; `reason` says where.
    case malformedList(String, reason: String)
    /// `--bind` and the type in `--cpus` disagree.
    case conflictingUnit(bind: BindingUnit, list: String)
    /// A batch of `batchSize` streams cannot give each of `workers` workers at least one.
    case batchTooSmall(batchSize: Int, workers: Int)
    /// Deterministic mode with fewer fixed shards than processes (each process needs one).
    case tooFewShards(shards: Int, processes: Int)

    public var description: String {
        switch self {
        case let .tooManyWorkers(workers, units, unit, available):
            let noun = unitNoun(unit, units)
            return "cannot place \(workers) workers on \(units) \(noun) (\(available)) without oversubscribing: "
                + "use --workers \(units) or fewer, or pass --oversubscribe to let workers share \(unitNoun(unit, 2))"
        case let .invalidWorkerCount(n):
            return "the number of workers must be at least 1 (got \(n))"
        case let .noSuchUnit(location, unit, index, count):
            let have = count == 0 ? "none" : "\(unit.rawValue):0-\(count - 1)"
            return "location \"\(location)\": \(unit.rawValue):\(index) does not exist; "
                + "this machine has \(count) \(unit == .numa ? (count == 1 ? "NUMA node" : "NUMA nodes") : unitNoun(unit, count)) "
                + "(\(have))"
        case let .emptyList(text):
            return "location list \"\(text)\" names no units; give e.g. core:0-3, pu:0,2 or numa:0"
        case let .malformedList(text, reason):
            return "cannot parse location list \"\(text)\": \(reason); expected TYPE:INDICES with TYPE core, pu or numa "
                + "and INDICES like 0-3,6 or all (logical indices, as hwloc-calc)"
        case let .conflictingUnit(bind, list):
            return "--bind \(bind.rawValue) conflicts with --cpus \(list): the location list's type is the binding unit; "
                + "drop --bind or make them agree"
        case let .batchTooSmall(batchSize, workers):
            return "a batch of \(batchSize) streams cannot be split across \(workers) workers (each needs at least one): "
                + "use --workers \(batchSize) or fewer, or a batch size of at least \(workers)"
        case let .tooFewShards(shards, processes):
            return "deterministic mode with \(shards) shards cannot feed \(processes) processes (each needs at least one): "
                + "use --deterministic-shards \(processes) or more, or fewer processes"
        }
    }
}

private func unitNoun(_ unit: BindingUnit, _ count: Int) -> String {
    let singular: String
    switch unit {
    case .core: singular = "core"
    case .pu: singular = "PU"
    case .numa: singular = "core"  // NUMA binding places one worker per core of the node
    }
    return count == 1 ? singular : singular + "s"
}
