extension WorkerLayout {
    /// A table of the plan, one row per worker: unit, OS PU indices, NUMA node, L3 group.
    public func table() -> String {
        let header = ["worker", "unit", "OS PUs", "NUMA", "L3"]
        let rows = workers.map { w in
            [String(w.worker), w.location, pus(ThreadBinding.boundCPUs(w)), String(w.numaNode),
             w.l3Group.map(String.init) ?? "-"]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max()!
        }
        func line(_ cells: [String]) -> String {
            let padded = zip(cells, widths).map { $0.padding(toLength: $1) }.joined(separator: "  ")
            return String(padded.reversed().drop { $0 == " " }.reversed())
        }
        var lines = [line(header)] + rows.map(line)
        if isOversubscribed {
            lines.append("(\(workerCount) workers share \(slotCount) \(unit == .pu ? "PUs" : "cores"): oversubscribed)")
        }
        return lines.joined(separator: "\n")
    }

    /// "0-3,8": OS PU indices, ranges compressed.
    private func pus(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < cpus.count {
            var j = i
            while j + 1 < cpus.count, cpus[j + 1] == cpus[j] + 1 { j += 1 }
            parts.append(j > i ? "\(cpus[i])-\(cpus[j])" : "\(cpus[i])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
