import ArgumentParser
import Parallel
import Pipeline

/// Where the workers of a benchmark run (the options of `ulmfit topology`).
struct BenchPlacementOptions: ParsableArguments {
    @Option(help: "Binding unit: core, pu or numa (default: core, or the type of --cpus).")
    var bind: BindingUnit?
    @Flag(help: "Do not pin the worker threads (the OS scheduler places them).")
    var noBind = false
    @Option(help: "Placement: compact or scatter. (default: compact)")
    var policy: PlacementPolicy?
    @Option(help: "Explicit units in hwloc-calc syntax with logical indices, e.g. core:0-7.")
    var cpus: String?
    @Flag(help: "Allow more workers than units. Oversubscribed numbers are not scaling numbers.")
    var oversubscribe = false

    var binds: Bool { !noBind }

    /// The layout for `workers` workers: these flags, else the config file's `layout:` section.
    func spec(workers: Int?, over file: RunConfig.LayoutSection = RunConfig.LayoutSection()) -> LayoutSpec {
        RunConfig.LayoutSection(workers: workers, bind: bind, policy: policy, cpus: cpus,
                                oversubscribe: oversubscribe ? true : nil).layered(over: file).spec
    }

    /// These options as command-line arguments (see `BenchModelOptions.arguments`).
    var arguments: [String] {
        var a: [String] = []
        if let bind { a += ["--bind", bind.rawValue] }
        if noBind { a.append("--no-bind") }
        if let policy { a += ["--policy", policy.rawValue] }
        if let cpus { a += ["--cpus", cpus] }
        if oversubscribe { a.append("--oversubscribe") }
        return a
    }
}
