import Testing
@testable import Parallel

/// Several processes of one job on one node: each plans its workers on its own share of the
/// node's cores, unless the user placed them (`cpus`).
@Suite struct NodeShareTests {
    @Test func sharesSplitTheUnitsContiguously() {
        #expect(NodeShare.whole.units(of: 8) == nil, "one process keeps every unit")
        #expect((0 ..< 3).map { NodeShare(index: $0, count: 3).units(of: 8) } == [0 ..< 3, 3 ..< 6, 6 ..< 8])
        #expect(NodeShare(index: 1, count: 4).units(of: 3) == nil, "fewer units than processes: nothing to split")
    }

    /// On this machine: two processes' default layouts use disjoint cores and cover them all;
    /// a layout that names its units, and a single process, are left alone.
    @Test func twoProcessesOnThisMachinePlanDisjointWorkers() throws {
        let topology = try Topology.machine()
        try #require(topology.cores.count >= 2, "needs 2 cores")
        let spec = LayoutSpec()
        let layouts = try (0 ..< 2).map { i in
            try WorkerLayout(spec: NodeShare(index: i, count: 2).apply(to: spec, topology: topology), topology: topology)
        }
        let cpus = layouts.map { Set($0.workers.flatMap(\.cpus)) }
        #expect(cpus[0].isDisjoint(with: cpus[1]), "\(layouts.map(\.workers))")
        #expect(layouts[0].workerCount + layouts[1].workerCount == topology.cores.count)
        #expect(NodeShare.whole.apply(to: spec, topology: topology) == spec)
        let placed = LayoutSpec(cpus: "core:0")
        #expect(NodeShare(index: 1, count: 2).apply(to: placed, topology: topology) == placed)
    }
}
