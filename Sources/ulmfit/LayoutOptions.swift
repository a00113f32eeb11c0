import ArgumentParser
import Parallel
import Pipeline

/// The worker layout options every training and benchmark command takes. Every option is optional
/// so that a config file's `layout:` section can supply what the command line leaves out.
struct LayoutOptions: ParsableArguments {
    @Option(help: "Number of workers (default: one per physical core).")
    var workers: Int?

    @Option(help: "Binding unit: core, pu or numa (default: the type of --cpus, else core).")
    var bind: BindingUnit?

    @Option(help: "Placement: compact (fill a socket/L3 first) or scatter (round-robin over NUMA nodes and L3 groups) (default: compact).")
    var policy: PlacementPolicy?

    @Option(help: "Explicit units in hwloc location syntax, e.g. core:0-7, pu:0,2,4, numa:1.")
    var cpus: String?

    @Flag(inversion: .prefixedNo, help: "Allow more workers than units (default: no).")
    var oversubscribe: Bool?

    /// The options given on the command line, as a config section.
    var section: RunConfig.LayoutSection {
        RunConfig.LayoutSection(workers: workers, bind: bind, policy: policy, cpus: cpus, oversubscribe: oversubscribe)
    }

    /// The layout from the flags alone.
    var spec: LayoutSpec { section.spec }

    /// The layout from the flags, falling back to a config file's `layout:` section, then the defaults.
    func spec(over config: RunConfig.LayoutSection) -> LayoutSpec {
        section.layered(over: config).spec
    }

    /// Plans the layout (errors before any work starts) and starts the pinned workers. Under a
    /// launcher that put several processes on this node, each takes its share of the node's units
    /// unless `--cpus` says otherwise (`ClusterOptions.sharingTheNode`).
    func makePool(config: RunConfig.LayoutSection = RunConfig.LayoutSection()) throws -> WorkerPool {
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: ClusterOptions.sharingTheNode(spec(over: config), topology: topology),
                                      topology: topology)
        return try WorkerPool(layout: layout, topology: topology)
    }
}
