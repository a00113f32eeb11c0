import ArgumentParser
import Parallel
import Pipeline

/// The worker layout options of every training and benchmark command (config section `layout:`).
/// Values go through the same checks as the config keys.
struct LayoutOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: .key("layout.workers"))
    var workers: String?

    @Option(help: .key("layout.bind"))
    var bind: String?

    @Option(help: .key("layout.policy"))
    var policy: String?

    @Option(help: .key("layout.cpus"))
    var cpus: String?

    @Flag(inversion: .prefixedNo, help: .key("layout.oversubscribe"))
    var oversubscribe: Bool?

    var overrides: [ConfigOverride?] {
        [.option("layout.workers", "--workers", workers), .option("layout.bind", "--bind", bind),
         .option("layout.policy", "--policy", policy), .option("layout.cpus", "--cpus", cpus),
         .option("layout.oversubscribe", "--oversubscribe", oversubscribe)]
    }
}
