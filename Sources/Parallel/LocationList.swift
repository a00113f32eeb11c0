import CHwloc

/// A parsed location list such as `core:0-7`, `pu:0,2,4`, `numa:1` or `core:all`.
///
/// The syntax is hwloc-calc's `TYPE:INDICES` with logical indices. hwloc's library has no call
/// that parses a whole location (that logic lives in the hwloc-calc utility, not libhwloc), so
/// the type name goes through hwloc's own `hwloc_type_sscanf` (accepting every spelling hwloc
/// accepts: `core`, `pu`, `numa`, `NUMANode`, ...) and the index list is parsed here, strictly,
/// so that mistakes get a precise message instead of hwloc's lenient reading (where `0-`
/// means "0 to infinity").
struct LocationList: Equatable {
    let unit: BindingUnit
    /// Logical indices, ascending, without duplicates.
    let indices: [Int]

    /// Parses `text` against `topology`, rejecting units the machine does not have.
    init(_ text: String, topology: Topology) throws {
        let trimmed = text.trimmingCharacters(in: " \t")
        guard !trimmed.isEmpty else { throw LayoutError.emptyList(text) }
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw LayoutError.malformedList(text, reason: "missing ':' between the type and the indices")
        }
        unit = try LocationList.unit(String(parts[0]), in: text)
        let count = topology.unitCount(unit)
        let indexText = String(parts[1])
        guard !indexText.isEmpty else { throw LayoutError.emptyList(text) }
        if indexText == "all" {
            guard count > 0 else { throw LayoutError.emptyList(text) }
            indices = Array(0..<count)
            return
        }
        var seen: [Int] = []
        for item in indexText.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                  let low = Int(bounds[0]), low >= 0,
                  let high = bounds.count == 2 ? Int(bounds[1]) : low else {
                throw LayoutError.malformedList(text, reason: "\"\(item)\" is not an index or a range like 2-5")
            }
            guard low <= high else {
                throw LayoutError.malformedList(text, reason: "range \"\(item)\" runs backwards")
            }
            guard high < count else {
                throw LayoutError.noSuchUnit(location: text, unit: unit, index: high, count: count)
            }
            for index in low...high {
                guard !seen.contains(index) else {
                    throw LayoutError.malformedList(text, reason: "\(unit.rawValue):\(index) is listed twice")
                }
                seen.append(index)
            }
        }
        indices = seen.sorted()
    }

    private static func unit(_ name: String, in text: String) throws -> BindingUnit {
        var type = HWLOC_OBJ_MACHINE
        guard !name.isEmpty, hwloc_type_sscanf(name, &type, nil, 0) == 0 else {
            throw LayoutError.malformedList(text, reason: "\"\(name)\" is not an hwloc object type")
        }
        switch type {
        case HWLOC_OBJ_CORE: return .core
        case HWLOC_OBJ_PU: return .pu
        case HWLOC_OBJ_NUMANODE: return .numa
        default:
            throw LayoutError.malformedList(text, reason: "workers can be bound to core, pu or numa, not \"\(name)\"")
        }
    }
}

extension Topology {
    /// How many units of this kind the machine has (cores, PUs or NUMA nodes).
    public func unitCount(_ unit: BindingUnit) -> Int {
        switch unit {
        case .core: return cores.count
        case .pu: return pus.count
        case .numa: return numaNodes.count
        }
    }
}

extension String {
    /// Drops leading and trailing characters from `set` (Foundation-free trim).
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        guard let start = firstIndex(where: { !chars.contains($0) }),
              let end = lastIndex(where: { !chars.contains($0) }) else { return "" }
        return String(self[start...end])
    }
}
