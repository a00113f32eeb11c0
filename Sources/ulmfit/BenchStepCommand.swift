import ArgumentParser
import Foundation
import GenomicData
import Kernels
import Model
import Parallel
import Pipeline
import SeededRandom
import Training

/// `ulmfit bench step`: throughput of the data-parallel language-model training step.
///
/// Builds the trainer on random token ids, runs `--warmup` steps, then times `--steps` steps
/// and reports tokens/s (B x T / median step time), GFLOP/s (3 x forward FLOPs, the PyTorch
/// peer's convention), the fraction of the FMA peak of the workers measured in the same run,
/// where the step's time went, and memory. `--json` prints one line with the keys of
/// benchmarks/pytorch_reference.py's JSON, so the two can be compared by a script.
struct BenchStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Tokens/s, GFLOP/s, % of FMA peak and time split of the AWD-LSTM LM training step.",
        discussion: """
            Presets (vocabulary 1025, B = 64, T = 70): paper 400/1150x3, small 128/512x3, \
            tiny 64/128x3. --emb/--hidden/--layers/--vocab override the preset's values.
            """)

    @OptionGroup var model: BenchModelOptions
    @OptionGroup var placement: BenchPlacementOptions

    @Option(help: "Number of workers (default: one per physical core of the allowed units).")
    var workers: Int?

    @Option(help: "Untimed steps first (allocation, page faults, caches).")
    var warmup = 2

    @Option(help: "Timed steps; the median step time gives tokens/s.")
    var steps = 5

    @Flag(help: "Print one JSON line (keys of benchmarks/pytorch_reference.py --json) instead of text.")
    var json = false

    @Option(help: "Also write the JSON record (pretty-printed) to this path.")
    var save: String?

    @Option(help: "Deterministic mode with this many fixed shards (measures its cost).")
    var deterministicShards: Int?

    func validate() throws {
        try model.validate()
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0 (got \(warmup))") }
        guard steps >= 1 else { throw ValidationError("--steps must be >= 1 (got \(steps))") }
        if let workers, workers < 1 { throw ValidationError("--workers must be >= 1 (got \(workers))") }
    }

    func run() throws {
        let file = try model.file
        let record = try Self.measure(config: model.modelConfig(), batch: model.batch, bptt: model.bptt,
                                      spec: placement.spec(workers: workers ?? file?.layout.workers,
                                                           over: file?.layout ?? RunConfig.LayoutSection()),
                                      bind: placement.binds, deterministicShards: deterministicShards,
                                      warmup: warmup, steps: steps, progress: !json)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        if json {
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
        } else {
            print(record.text)
        }
        if let save {
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try BenchSupport.writeText(String(decoding: try encoder.encode(record), as: UTF8.self) + "\n", to: save)
        }
    }

    /// Builds a pool and a trainer for `config`, measures the FMA peak on the pool's workers,
    /// runs `warmup` + `steps` steps on random token ids and returns the measurement.
    /// `progress` prints one line per step to stderr (a paper-model step takes seconds).
    static func measure(config: AWDLSTMConfig, batch: Int, bptt: Int, spec: LayoutSpec, bind: Bool,
                        deterministicShards: Int? = nil,
                        warmup: Int, steps: Int, progress: Bool) throws -> StepRecord {
        configureBLASForWorkers()   // one OpenBLAS thread per worker: parallelism is ours
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: spec, topology: topology)
        let pool = try WorkerPool(layout: layout, topology: topology, bind: bind)
        let W = pool.workerCount
        let peakBefore = workerPeak(pool)

        var options = LanguageModelTrainerOptions()
        options.batchSize = batch
        options.bptt = bptt
        options.deterministicShards = deterministicShards
        let total = warmup + steps
        let batches = try randomBatches(vocab: config.vocabSize, batch: batch, bptt: bptt, windows: total)
        let parameters = LanguageModelParameters(config: config)
        let optimizerLayout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
        // The peer's optimizer: AdamW (0.9, 0.99), eps 1e-5, wd 0.01, constant rate, no clipping.
        let plan = try OptimizerPlan(layout: optimizerLayout, learningRates: .uniform(2e-3),
                                     schedule: ConstantSchedule(totalSteps: total))
        let rssBefore = ProcessMemory.residentMegabytes()
        let trainer = try LanguageModelTrainer(config: config, options: options, pool: pool, plan: plan)

        var walls: [Double] = [], split = StepTiming(), lastLoss = 0.0
        for s in 0 ..< total {
            let t0 = BenchSupport.now()
            let result = try trainer.trainStep(batches, window: s)
            let wall = BenchSupport.now() - t0
            lastLoss = result.loss
            if s >= warmup {
                walls.append(wall)
                split = split + result.timing
            }
            if progress {
                FileHandle.standardError.write(Data(String(format: "  %@ step %d: %.1f ms, loss %.3f\n",
                    s < warmup ? "warm-up" : "timed", s, wall * 1e3, result.loss).utf8))
            }
        }
        let rssAfter = ProcessMemory.residentMegabytes()
        let peakAfter = workerPeak(pool)
        let peak = max(peakBefore, peakAfter)

        walls.sort()
        let median = walls.count % 2 == 1 ? walls[walls.count / 2]
            : (walls[walls.count / 2 - 1] + walls[walls.count / 2]) / 2
        let tokensPerS = Double(batch * bptt) / median
        let flopsPerToken = config.languageModelTrainingFLOPsPerToken
        let gflops = tokensPerS * flopsPerToken / 1e9
        let percent = { (ns: Double) in split.wall > 0 ? 100 * ns / split.wall : 0 }
        let accounted = split.prepare + split.forward + split.backward + split.allReduce + split.optimizer + split.idle
        return StepRecord(
            impl: "ulmfit", mode: "data-parallel", workers: W,
            emb: config.embeddingSize, hidden: config.hiddenSize, layers: config.layerCount,
            vocab: config.vocabSize, batch: batch, bptt: bptt, warmup: warmup, steps: steps,
            tokensPerS: tokensPerS, stepSMedian: median, stepSMin: walls.first!, stepSMax: walls.last!,
            flopsPerToken: flopsPerToken, gflops: gflops,
            fmaPeakGflops: peak, fractionOfPeak: gflops / peak,
            timeSplitPct: TimeSplit(prepare: percent(split.prepare), forward: percent(split.forward),
                                    backward: percent(split.backward), allReduce: percent(split.allReduce),
                                    optimizer: percent(split.optimizer), idle: percent(split.idle),
                                    other: percent(max(0, split.wall - accounted))),
            peakRssMb: ProcessMemory.peakResidentMegabytes(),
            rssDeltaMb: rssAfter - rssBefore, rssPerWorkerMbEstimate: (rssAfter - rssBefore) / Double(W),
            boundTo: bind ? layout.workers.map(\.location) : [],
            oversubscribed: layout.isOversubscribed, memoryPolicy: trainer.memoryPolicy,
            blas: blasConfiguration(), loadAverage: ProcessMemory.loadAverage(), ceLast: lastLoss)
    }

    /// Summed FMA peak of the pool's workers, each measuring on its own unit at the same time;
    /// best of three. Each measurement lasts ~0.1 s, many scheduler time slices, so workers
    /// that share a core (oversubscribed) really share its peak; the sum is also capped at one
    /// best core per unit, for the same reason.
    static func workerPeak(_ pool: WorkerPool) -> Double {
        let slots = WorkerSlots<Double>(count: pool.workerCount, initial: 0)
        let units = min(pool.workerCount, pool.layout.slotCount)
        var best = 0.0
        for _ in 0 ..< 3 {
            pool.run { w in slots[w] = FMAPeak.measure(iterations: 60_000_000 / 12) }
            let values = slots.elements
            best = max(best, min(values.reduce(0, +), Double(units) * values.max()!))
        }
        return best
    }

    /// `windows` full windows of uniformly random token ids in 0..<vocab (as the peer's
    /// `torch.randint`), from a fixed seed.
    static func randomBatches(vocab: Int, batch: Int, bptt: Int, windows: Int) throws -> LanguageModelBatches {
        var random = CounterRandom(seed: 2026)
        let count = batch * bptt * windows + 1
        let tokens = (0 ..< count).map { _ in Int32(random.next() % UInt64(vocab)) }
        return try LanguageModelBatches(documents: [tokens], batchSize: batch, bptt: bptt)
    }
}

/// The model and minibatch shape of a step benchmark.
struct BenchModelOptions: ParsableArguments {
    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case paper, small, tiny

        /// (embedding, hidden, layers)
        var sizes: (Int, Int, Int) {
            switch self {
            case .paper: return (400, 1150, 3)
            case .small: return (128, 512, 3)
            case .tiny: return (64, 128, 3)
            }
        }
    }

    @Option(help: "Model size: paper (400/1150x3), small (128/512x3) or tiny (64/128x3).")
    var preset: Preset?
    @Option(help: "Vocabulary size.")
    var vocab = 1025
    @Option(help: "Embedding size (default: the preset's, else 400).")
    var emb: Int?
    @Option(help: "Hidden size (default: the preset's, else 1150).")
    var hidden: Int?
    @Option(help: "LSTM layers (default: the preset's, else 3).")
    var layers: Int?
    @Option(help: "Streams per minibatch, all workers together (B). (default: 64)")
    var batchOption: Int?
    @Option(help: "BPTT window length (T). (default: 70)")
    var bpttOption: Int?
    @Option(help: "A run config (YAML): its model sizes, training batch/bptt and layout are the defaults; flags override them.")
    var config: String?

    /// The config file, loaded once (nil without --config).
    var file: RunConfig? {
        get throws { try config.map { try RunConfig.load(path: $0) } }
    }

    var batch: Int { get throws { try batchOption ?? file?.training.batch ?? 64 } }
    var bptt: Int { get throws { try bpttOption ?? file?.training.bptt ?? 70 } }

    func validate() throws {
        guard try batch >= 1 else { throw ValidationError("--batch must be >= 1 (got \(try batch))") }
        guard try bptt >= 1 else { throw ValidationError("--bptt must be >= 1 (got \(try bptt))") }
        try modelConfig().validate()
    }

    /// Sizes: flags, else the config file's model section, else the preset (paper by default).
    func modelConfig() throws -> AWDLSTMConfig {
        let (e, h, l) = (preset ?? .paper).sizes
        let m = try file?.model
        return AWDLSTMConfig(vocabSize: vocab, embeddingSize: emb ?? m?.emb ?? e, hiddenSize: hidden ?? m?.hidden ?? h,
                             layerCount: layers ?? m?.layers ?? l)
    }

    /// The preset's name, or "custom" when sizes were overridden.
    var name: String {
        emb == nil && hidden == nil && layers == nil ? (preset ?? .paper).rawValue : "custom"
    }
}

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
}

/// Where a step's time went, in % of the step's wall time (averaged over workers and steps).
struct TimeSplit: Codable {
    var prepare, forward, backward, allReduce, optimizer, idle: Double
    /// Not in any phase: zeroing gradients, copying tokens, loss bookkeeping, dispatch.
    var other: Double

    var text: String {
        String(format: "prepare %.1f%%, forward %.1f%%, backward %.1f%%, all-reduce %.1f%%, "
               + "optimizer %.1f%%, idle %.1f%%, other %.1f%%",
               prepare, forward, backward, allReduce, optimizer, idle, other)
    }
}

/// One `bench step` measurement; its JSON keys (snake case) match the PyTorch reference's.
struct StepRecord: Codable {
    var impl: String
    var mode: String
    var workers, emb, hidden, layers, vocab, batch, bptt, warmup, steps: Int
    var tokensPerS: Double
    var stepSMedian, stepSMin, stepSMax: Double
    var flopsPerToken: Double
    var gflops: Double
    /// Summed FMA peak of the workers' units, measured in this run.
    var fmaPeakGflops: Double
    var fractionOfPeak: Double
    var timeSplitPct: TimeSplit
    /// Process high-water mark (getrusage ru_maxrss).
    var peakRssMb: Double
    /// Resident memory after the timed steps minus before the trainer was built.
    var rssDeltaMb: Double
    /// `rssDeltaMb / workers`: an approximation (the delta also holds the shared weights and
    /// optimizer state, which are not per worker).
    var rssPerWorkerMbEstimate: Double
    var boundTo: [String]
    var oversubscribed: Bool
    var memoryPolicy: String
    var blas: String
    var loadAverage: Double
    var ceLast: Double

    var text: String {
        var lines = [
            "Model: E=\(emb) H=\(hidden)x\(layers) V=\(vocab), B=\(batch) T=\(bptt), \(workers) worker(s)"
                + (boundTo.isEmpty ? " (not pinned)" : " on " + boundTo.joined(separator: " ")),
            String(format: "Throughput: %.0f tokens/s (median step %.1f ms [%.1f-%.1f] over %d steps after %d warm-up)",
                   tokensPerS, stepSMedian * 1e3, stepSMin * 1e3, stepSMax * 1e3, steps, warmup),
            String(format: "Compute: %.1f GFLOP/s (%.2f MFLOP/token) = %.1f%% of the workers' FMA peak %.1f GFLOP/s (this run)",
                   gflops, flopsPerToken / 1e6, 100 * fractionOfPeak, fmaPeakGflops),
            "Time split: " + timeSplitPct.text,
            String(format: "Memory: peak RSS %.0f MB; RSS growth from building and running the trainer %.0f MB, "
                   + "~%.0f MB per worker (growth / workers: an approximation, shared weights included)",
                   peakRssMb, rssDeltaMb, rssPerWorkerMbEstimate),
            "Memory policy: \(memoryPolicy)",
            "BLAS: \(blas)",
            String(format: "Load average (1 min) at the end: %.2f", loadAverage),
        ]
        if oversubscribed {
            lines.append("WARNING: more workers than units (oversubscribed): these are not scaling numbers.")
        }
        return lines.joined(separator: "\n")
    }
}

/// Resident-memory and load readings of this process (Linux).
enum ProcessMemory {
    /// High-water mark of the resident set (getrusage; ru_maxrss is in KiB on Linux).
    static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Current resident set from /proc/self/statm (0 if unreadable).
    static func residentMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    /// One-minute load average (other processes competing for the cores).
    static func loadAverage() -> Double {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) > 0 ? loads[0] : -1
    }
}
