import ArgumentParser
import Parallel

/// The worker layout options every training and benchmark command takes.
struct LayoutOptions: ParsableArguments {
    @Option(help: "Number of workers (default: one per physical core).")
    var workers: Int?

    @Option(help: "Binding unit: core, pu or numa.")
    var bind: BindingUnit?

    @Option(help: "Placement: compact (fill a socket/L3 first) or scatter (round-robin over NUMA nodes and L3 groups).")
    var policy: PlacementPolicy = .compact

    @Option(help: "Explicit units in hwloc location syntax, e.g. core:0-7, pu:0,2,4, numa:1.")
    var cpus: String?

    @Flag(help: "Allow more workers than units.")
    var oversubscribe = false

    var spec: LayoutSpec {
        LayoutSpec(workers: workers, unit: bind, policy: policy, cpus: cpus, oversubscribe: oversubscribe)
    }

    /// Plans the layout (errors before any work starts) and starts the pinned workers.
    func makePool() throws -> WorkerPool {
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: spec, topology: topology)
        return try WorkerPool(layout: layout, topology: topology)
    }
}
