import Testing
@testable import Parallel

/// Layout planning, on this machine and on synthetic topologies with several sockets.
@Suite struct WorkerLayoutTests {
    /// Two packages, two NUMA nodes each, two L3 groups per node, 2 cores per L3, 2 PUs per core.
    static let bigMachine = "pack:2 numa:2 l3:2 core:2 pu:2"

    @Test func machineTopologyIsConsistent() throws {
        let topology = try Topology.machine()
        #expect(topology.isThisSystem)
        #expect(!topology.cores.isEmpty)
        #expect(topology.pus.count >= topology.cores.count)
        #expect(!topology.numaNodes.isEmpty)
        // Every PU belongs to exactly one core, and the cores' cpusets partition the PUs.
        #expect(topology.cores.flatMap(\.cpus).sorted() == topology.pus.map(\.osIndex).sorted())
        let tree = topology.description
        #expect(tree.hasPrefix("Machine (this machine; hwloc 2."))
        #expect(tree.contains("Core L#0"))
        #expect(tree.contains("(as reported by hwloc)"))
    }

    @Test func syntheticTopologyTree() throws {
        let topology = try Topology(synthetic: WorkerLayoutTests.bigMachine)
        #expect(!topology.isThisSystem)
        #expect(topology.packages.count == 2)
        #expect(topology.numaNodes.count == 4)
        #expect(topology.l3Groups.count == 8)
        #expect(topology.cores.count == 16)
        #expect(topology.pus.count == 32)
        #expect(topology.cores[5].numaNode == 1 && topology.cores[5].l3Group == 2 && topology.cores[5].package == 0)
        #expect(topology.cores[9].package == 1 && topology.cores[9].numaNode == 2)
        let lines = topology.description.split(separator: "\n").map(String.init)
        #expect(lines[0].hasSuffix("2 packages, 4 NUMA nodes, 8 L3 groups, 16 cores, 32 PUs"))
        #expect(lines[1] == "  Package L#0 (P#0)")
        #expect(lines[2].hasPrefix("    NUMANode L#0 (P#0) local memory"))
        #expect(lines[3].hasPrefix("      L3 L#0"))
        #expect(lines[4] == "        Core L#0 (P#0)")
        #expect(lines[5] == "          PU L#0 (P#0)")
        #expect(lines.count == 1 + 2 + 4 + 8 + 16 + 32)
    }

    @Test func defaultIsOneWorkerPerCoreCompact() throws {
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: LayoutSpec(), topology: topology)
        #expect(layout.workerCount == topology.cores.count)
        #expect(layout.workers.map(\.unitIndex) == Array(0..<topology.cores.count))
        #expect(layout.workers.map(\.cpus) == topology.cores.map(\.cpus))
        #expect(!layout.isOversubscribed)
    }

    @Test(arguments: [PlacementPolicy.compact, .scatter], [1, 2])
    func machinePolicies(policy: PlacementPolicy, workers: Int) throws {
        let topology = try Topology.machine()
        try #require(topology.cores.count >= 2, "needs at least 2 cores")
        let layout = try WorkerLayout(spec: LayoutSpec(workers: workers, policy: policy), topology: topology)
        #expect(layout.workers.map(\.location) == (0..<workers).map { "core:\($0)" })
        #expect(layout.workers.allSatisfy { $0.numaNode == topology.cores[$0.unitIndex].numaNode })
    }

    @Test func compactFillsTheFirstSocket() throws {
        let topology = try Topology(synthetic: WorkerLayoutTests.bigMachine)
        let layout = try WorkerLayout(spec: LayoutSpec(workers: 4, policy: .compact), topology: topology)
        #expect(layout.workers.map(\.unitIndex) == [0, 1, 2, 3])
        #expect(layout.workers.map(\.numaNode) == [0, 0, 0, 0])
        #expect(layout.workers.map(\.l3Group) == [0, 0, 1, 1])
    }

    @Test func scatterSpreadsOverPackagesNodesAndL3Groups() throws {
        let topology = try Topology(synthetic: WorkerLayoutTests.bigMachine)
        let layout = try WorkerLayout(spec: LayoutSpec(workers: 8, policy: .scatter), topology: topology)
        // Package 0 node 0 L3 0, package 1 node 2 L3 4, package 0 node 1 L3 2, package 1 node 3 L3 6,
        // then the second L3 group of each node in the same order.
        #expect(layout.workers.map(\.unitIndex) == [0, 8, 4, 12, 2, 10, 6, 14])
        #expect(layout.workers.map(\.numaNode) == [0, 2, 1, 3, 0, 2, 1, 3])
        #expect(layout.workers.map(\.l3Group) == [0, 4, 2, 6, 1, 5, 3, 7])
    }

    @Test func scatterOverPUsUsesEveryCoreBeforeHyperThreads() throws {
        let topology = try Topology(synthetic: "pack:1 numa:1 l3:1 core:2 pu:2")
        let layout = try WorkerLayout(spec: LayoutSpec(unit: .pu, policy: .scatter), topology: topology)
        #expect(layout.workerCount == 2)  // default: one per physical core
        #expect(layout.workers.map(\.unitIndex) == [0, 2])
        let all = try WorkerLayout(spec: LayoutSpec(workers: 4, unit: .pu, policy: .scatter), topology: topology)
        #expect(all.workers.map(\.unitIndex) == [0, 2, 1, 3])
    }

    @Test func explicitLists() throws {
        let topology = try Topology(synthetic: WorkerLayoutTests.bigMachine)
        let cores = try WorkerLayout(spec: LayoutSpec(cpus: "core:2-4,9"), topology: topology)
        #expect(cores.unit == .core)
        #expect(cores.workers.map(\.location) == ["core:2", "core:3", "core:4", "core:9"])
        let pus = try WorkerLayout(spec: LayoutSpec(workers: 3, cpus: "pu:0,2,4"), topology: topology)
        #expect(pus.workers.map(\.cpus) == [[0], [2], [4]])
        let node = try WorkerLayout(spec: LayoutSpec(cpus: "numa:1"), topology: topology)
        #expect(node.workerCount == 4)  // one per core of node 1
        #expect(node.workers.allSatisfy { $0.location == "numa:1" && $0.cpus == Array(8..<16) && $0.numaNode == 1 })
        let all = try WorkerLayout(spec: LayoutSpec(cpus: "NUMANode:all"), topology: topology)
        #expect(all.workerCount == 16)
    }

    @Test func explicitListOnThisMachine() throws {
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: LayoutSpec(cpus: "core:0"), topology: topology)
        #expect(layout.workers.map(\.location) == ["core:0"])
        #expect(layout.workers[0].cpus == topology.cores[0].cpus)
    }

    @Test func oversubscriptionWrapsAround() throws {
        let topology = try Topology.machine()
        let n = topology.cores.count
        let layout = try WorkerLayout(spec: LayoutSpec(workers: n + 1, oversubscribe: true), topology: topology)
        #expect(layout.isOversubscribed)
        #expect(layout.workers.last!.unitIndex == 0)
    }

    @Test func tooManyWorkers() throws {
        let topology = try Topology.machine()
        let n = topology.cores.count
        let error = #expect(throws: LayoutError.self) {
            try WorkerLayout(spec: LayoutSpec(workers: n + 1), topology: topology)
        }
        let message = "\(error!)"
        #expect(message.contains("cannot place \(n + 1) workers on \(n) cores"))
        #expect(message.contains("--workers \(n) or fewer"))
        #expect(message.contains("--oversubscribe"))
    }

    @Test func nonexistentUnit() throws {
        let topology = try Topology.machine()
        let error = #expect(throws: LayoutError.self) {
            try WorkerLayout(spec: LayoutSpec(cpus: "core:99"), topology: topology)
        }
        #expect(error == .noSuchUnit(location: "core:99", unit: .core, index: 99, count: topology.cores.count))
        #expect("\(error!)".contains("core:99 does not exist; this machine has \(topology.cores.count) cores"))
    }

    @Test(arguments: ["", "  ", "core:"])
    func emptyList(text: String) throws {
        let topology = try Topology.machine()
        let error = #expect(throws: LayoutError.self) {
            try WorkerLayout(spec: LayoutSpec(cpus: text), topology: topology)
        }
        #expect(error == .emptyList(text))
        #expect("\(error!)".contains("names no units"))
    }

    @Test(arguments: [
        ("core0", "missing ':'"),
        ("socket:0", "workers can be bound to core, pu or numa"),
        ("blah:0", "\"blah\" is not an hwloc object type"),
        ("core:1-0", "runs backwards"),
        ("core:0-", "\"0-\" is not an index"),
        ("core:a", "\"a\" is not an index"),
        ("core:0,,1", "\"\" is not an index"),
        ("core:0,0", "core:0 is listed twice"),
    ])
    func malformedList(text: String, expected: String) throws {
        let topology = try Topology.machine()
        let error = #expect(throws: LayoutError.self) {
            try WorkerLayout(spec: LayoutSpec(cpus: text), topology: topology)
        }
        let message = "\(error!)"
        #expect(message.contains("cannot parse location list \"\(text)\""))
        #expect(message.contains(expected))
    }

    @Test func conflictingBindAndList() throws {
        let topology = try Topology.machine()
        #expect(throws: LayoutError.conflictingUnit(bind: .pu, list: "core:0")) {
            try WorkerLayout(spec: LayoutSpec(unit: .pu, cpus: "core:0"), topology: topology)
        }
        #expect(throws: LayoutError.invalidWorkerCount(0)) {
            try WorkerLayout(spec: LayoutSpec(workers: 0), topology: topology)
        }
    }

    @Test func splitIsContiguousAndEven() {
        #expect(WorkerLayout.split(count: 10, parts: 3) == [0..<4, 4..<7, 7..<10])
        #expect(WorkerLayout.split(count: 12, parts: 4) == [0..<3, 3..<6, 6..<9, 9..<12])
        #expect(WorkerLayout.split(count: 2, parts: 3) == [0..<1, 1..<2, 2..<2])
        #expect(WorkerLayout.split(count: 0, parts: 2) == [0..<0, 0..<0])
        #expect(WorkerLayout.split(count: 7, parts: 1) == [0..<7])
    }

    @Test func batchSplitValidation() throws {
        try WorkerLayout.validateSplit(batchSize: 64, workers: 64)
        try WorkerLayout.validateSplit(batchSize: 10, workers: 3)
        let error = #expect(throws: LayoutError.self) {
            try WorkerLayout.validateSplit(batchSize: 2, workers: 3)
        }
        #expect(error == .batchTooSmall(batchSize: 2, workers: 3))
        let message = "\(error!)"
        #expect(message.contains("a batch of 2 streams cannot be split across 3 workers"))
        #expect(message.contains("--workers 2 or fewer, or a batch size of at least 3"))
    }
}
