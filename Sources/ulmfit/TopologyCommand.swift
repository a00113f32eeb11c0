import ArgumentParser
import Kernels
import Parallel
import Pipeline

/// `ulmfit topology`: shows the machine as hwloc sees it and, optionally, where the workers
/// of a data-parallel run would go.
struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Print the hardware topology and the worker layout a training run would use.",
        discussion: """
            Without layout options prints the topology tree only. With --workers, --bind, --policy \
            or --cpus it also plans the layout (one worker per physical core by default) and prints \
            worker -> unit, OS PUs, NUMA node and L3 group. --verify starts the pinned workers, checks \
            where each runs and which memory policy took effect.
            """)

    @OptionGroup var layoutOptions: LayoutOptions
    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "Plan against a synthetic hwloc topology instead of this machine, e.g. \"pack:2 numa:2 l3:2 core:4 pu:2\".")
    var synthetic: String?

    @Flag(help: "Start the workers, bind them and report where they run, how their memory is placed, and the dispatch, barrier and reduce-scatter costs.")
    var verify = false

    @Option(help: "Parameters in the --verify reduce-scatter measurement.")
    var reduceFloats = 4_000_000

    @OptionGroup var verbosity: VerbosityOptions

    func run() throws {
        let topology = try synthetic.map { try Topology(synthetic: $0) } ?? Topology.machine()
        let settings = try configOptions.resolve(layoutOptions.overrides)
        let planning = settings.layout != RunConfig.LayoutSection() || verify
        guard planning else {
            print(topology)
            return
        }
        // Plan before printing anything, so an impossible layout fails with just its message
        // (naming the option or config line at fault).
        let spec = settings.layout.spec
        let layout: WorkerLayout
        do {
            layout = try WorkerLayout(spec: spec, topology: topology)
        } catch let error as LayoutError {
            let key = settings.sources["layout.cpus"] != nil ? "layout.cpus" : "layout.workers"
            throw settings.error(key, "\(error)")
        }
        print(topology)
        print("")
        print("Layout: \(layout.workerCount) workers, bind \(layout.unit.rawValue), policy \(spec.policy.rawValue)"
              + (spec.cpus.map { ", units \($0)" } ?? ""))
        print(layout.table())
        guard verify else {
            print("Memory: hwloc_alloc_membind BIND to each worker's NUMA node where the system allows it, "
                  + "else first-touch by the bound worker (--verify shows which)")
            return
        }
        let pool = try WorkerPool(layout: layout, topology: topology)
        let policies = WorkerSlots<String>(count: layout.workerCount, initial: "")
        pool.run { w in policies[w] = pool.memory(worker: w).allocate(count: 1 << 16).policy.description }
        print("")
        print("Verified: worker -> allowed OS PUs, observed CPU, memory policy")
        for report in pool.reports {
            print("  \(report.worker)  \(report.location)  allowed \(report.allowedCPUs)  "
                  + "on CPU \(report.observedCPU)  \(policies[report.worker])")
        }
        // Dispatch overhead: what one training step pays for waking the workers and joining them.
        let calls = 2_000
        let clock = ContinuousClock()
        let dispatch = clock.measure { for _ in 0..<calls { pool.run { _ in } } }
        let rounds = 2_000
        let barrier = pool.barrier
        let crossing = clock.measure {
            pool.run { w in for _ in 0..<rounds { barrier.arriveAndWait(worker: w) } }
        }
        // Reduce-scatter of `reduceFloats` parameters (each worker's gradient allocated near it).
        let reducer = ReduceScatter(count: reduceFloats, barrier: barrier)
        let gradients = WorkerSlots<FloatBuffer?>(count: layout.workerCount, initial: nil)
        pool.run { w in
            let gradient = pool.memory(worker: w).allocate(count: reduceFloats).buffer
            gradients[w] = gradient
            reducer.attach(worker: w, gradient: gradient.pointer)
            _ = reducer.reduce(worker: w)  // first touch of the reduced slices
        }
        let repeats = 10
        let reducing = clock.measure { for _ in 0..<repeats { pool.run { w in _ = reducer.reduce(worker: w) } } }
        let perReduce = reducing / repeats
        let bytes = Double((layout.workerCount + 1) * reduceFloats * 4)
        let seconds = Double(perReduce.components.attoseconds) / 1e18 + Double(perReduce.components.seconds)
        print("Reduce-scatter of \(reduceFloats) floats over \(layout.workerCount) workers: "
              + "\(microseconds(perReduce)) us (\(Double(Int(bytes / seconds / 1e7)) / 100) GB/s moved)")
        print("Overhead: empty run() \(microseconds(dispatch / calls)) us per call, "
              + "barrier \(microseconds(crossing / rounds)) us per crossing (mean; shared VMs vary)")
    }
}

private func microseconds(_ duration: Duration) -> String {
    let us = Double(duration.components.attoseconds) / 1e12 + Double(duration.components.seconds) * 1e6
    return String(Double(Int(us * 100)) / 100)
}

extension BindingUnit: ExpressibleByArgument {}
extension PlacementPolicy: ExpressibleByArgument {}
