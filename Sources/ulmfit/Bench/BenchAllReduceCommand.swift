import ArgumentParser
import Cluster
import Foundation
import Model
import Parallel

/// `ulmfit bench allreduce`: the cross-process gradient reduction alone, under mpirun or srun.
///
/// Each process fills a gradient of P floats with small integers (sums of which are exact in
/// any order), reduces it with the trainer's `HierarchicalReducer` (one worker per process), and
/// checks every element of the result: a wrong sum exits non-zero. Then it reports the median
/// time, the bandwidth seen by the algorithm (P x 4 bytes / time) and the "bus" bandwidth of a
/// ring all-reduce (2 (N-1)/N x P x 4 bytes / time, what each link carried), beside the ring
/// model's time at 10 and 100 Gb/s (benchmarks/README.md, "Several nodes").
struct BenchAllReduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time and check the cross-process gradient reduction (run under mpirun or srun).",
        discussion: """
            Example: mpirun --bind-to none -np 2 ulmfit bench allreduce. With one process there is \
            nothing to exchange and the command says so.
            """)

    @Option(help: "Floats per gradient (default: the paper model's parameter count, vocabulary 1025).")
    var count: Int?

    @Option(help: "sum: the default training mode (one all-reduce); ordered: deterministic mode (every shard to its owner, sum in shard order).")
    var mode: Mode = .sum

    @Option(help: "Untimed reductions first.")
    var warmup = 1

    @Option(help: "Timed reductions.")
    var repeats = 5

    @OptionGroup var verbosity: VerbosityOptions
    @OptionGroup var cluster: ClusterOptions

    enum Mode: String, ExpressibleByArgument, CaseIterable { case sum, ordered }

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be >= 1 (got \(count))") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0 (got \(warmup))") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be >= 1 (got \(repeats))") }
    }

    /// The value process `rank` contributes at element `i`: a small integer, so sums are exact.
    static func value(rank: Int, index i: Int) -> Float { Float((i &* 7 &+ rank &* 3) % 13) - 6 }

    func run() throws {
        let (group, _) = try cluster.join(verbosity)
        let P = count ?? LanguageModelParameters(config: AWDLSTMConfig(vocabSize: 1025)).layout.count
        let N = group.size
        guard N > 1 else {
            print("1 process: nothing to exchange. Start several, e.g. mpirun --bind-to none -np 2 ulmfit bench allreduce")
            return
        }
        let topology = try Topology.machine()
        let pool = try WorkerPool(layout: WorkerLayout(spec: LayoutSpec(workers: 1, oversubscribe: true), topology: topology),
                                  topology: topology, bind: false)
        let shards = ProcessShards(workersPerProcess: [Int](repeating: 1, count: N))
        let reducer = HierarchicalReducer(count: P, barrier: pool.barrier, group: group, shards: shards,
                                          ordered: mode == .ordered)
        let gradient = UnsafeMutablePointer<Float>.allocate(capacity: P)
        defer { gradient.deallocate() }
        reducer.attach(source: 0, gradient: gradient)
        print(String(format: "%d processes, %d floats (%.1f MB) per gradient, mode %@", N, P, Double(P) * 4e-6,
                     mode.rawValue))

        var times: [Double] = []
        for r in 0 ..< warmup + repeats {
            for i in 0 ..< P { gradient[i] = Self.value(rank: group.rank, index: i) }
            reducer.label = "bench allreduce, repeat \(r)"
            _ = group.allGather(bytes: [], label: "bench allreduce, start of repeat \(r)")  // start together
            let t0 = BenchSupport.now()
            pool.run { w in _ = reducer.reduce(worker: w) }
            let t = BenchSupport.now() - t0
            try check(reducer.reduced, count: P, processes: N, rank: group.rank)
            if r >= warmup { times.append(t) }
            print(String(format: "%@ %d: %.1f ms", r < warmup ? "warm-up" : "repeat", r, t * 1e3))
        }
        times.sort()
        let median = BenchSupport.median(times), bytes = Double(P) * 4
        let ringFactor = 2 * Double(N - 1) / Double(N)
        print(String(format: "median %.1f ms [%.1f-%.1f]: algorithm bandwidth %.2f GB/s, ring bus bandwidth %.2f GB/s",
                     median * 1e3, times.first! * 1e3, times.last! * 1e3, bytes / median / 1e9, ringFactor * bytes / median / 1e9))
        print(String(format: "ring model for %d processes, bandwidth term only: %.1f ms at 10 Gb/s, %.1f ms at 100 Gb/s",
                     N, ringFactor * bytes / 1.25e9 * 1e3, ringFactor * bytes / 12.5e9 * 1e3))
    }

    /// Every element must be the exact sum of the processes' values.
    private func check(_ result: UnsafePointer<Float>, count P: Int, processes N: Int, rank: Int) throws {
        for i in 0 ..< P {
            let expected = (0 ..< N).reduce(Float(0)) { $0 + Self.value(rank: $1, index: i) }
            guard result[i] == expected else {
                throw BenchError("rank \(rank): element \(i) of the reduced gradient is \(result[i]), expected \(expected)")
            }
        }
    }
}
