extension Topology: CustomStringConvertible {
    /// A tree of the topology: Machine > Package > NUMA node > L3 group > Core > PU, with
    /// logical (`L#`) and OS (`P#`) indices. An L3 group spanning several NUMA nodes (sub-NUMA
    /// clustering) is listed under each of them with the cores it shares with that node.
    public var description: String {
        var lines: [String] = []
        let summary = [plural(packages.count, "package"), plural(numaNodes.count, "NUMA node"),
                       plural(l3Groups.count, "L3 group"), plural(cores.count, "core"),
                       plural(pus.count, "PU")].joined(separator: ", ")
        lines.append("Machine (\(source); hwloc \(Topology.hwlocVersion)): \(summary)")
        for package in packages {
            lines.append("  Package L#\(package.logicalIndex)\(os(package.osIndex))")
            let packageCores = cores.filter { $0.package == package.logicalIndex }
            for node in numaNodes where packageCores.contains(where: { $0.numaNode == node.logicalIndex }) {
                lines.append("    NUMANode L#\(node.logicalIndex)\(os(node.osIndex)) "
                             + "local memory \(gibibytes(node.localMemoryBytes)) (as reported by hwloc)")
                let nodeCores = packageCores.filter { $0.numaNode == node.logicalIndex }
                // Cores without an L3 (none reported) are grouped under a nil key.
                var groups: [Int?] = []
                for core in nodeCores where !groups.contains(core.l3Group) { groups.append(core.l3Group) }
                for group in groups {
                    var indent = "      "
                    if let group {
                        lines.append("      L3 L#\(group) (\(mebibytes(l3Groups[group].sizeBytes)))")
                        indent += "  "
                    }
                    for core in nodeCores where core.l3Group == group {
                        lines.append("\(indent)Core L#\(core.logicalIndex)\(os(core.osIndex))")
                        for pu in pus where pu.core == core.logicalIndex {
                            lines.append("\(indent)  PU L#\(pu.logicalIndex) (P#\(pu.osIndex))")
                        }
                    }
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    private func os(_ index: Int?) -> String { index.map { " (P#\($0))" } ?? "" }
    private func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}

/// "11.7 GiB": memory sizes for humans.
func gibibytes(_ bytes: UInt64) -> String {
    let tenths = Int((Double(bytes) / 1_073_741_824 * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) GiB"
}

func mebibytes(_ bytes: UInt64) -> String {
    bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
}
