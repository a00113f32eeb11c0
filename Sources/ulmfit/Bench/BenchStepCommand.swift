import ArgumentParser
import Cluster
import Foundation
import GenomicData
import Kernels
import Model
import Parallel
import Pipeline
import SeededRandom
import Training

/// `ulmfit bench step`: throughput of the data-parallel training step, of the language model
/// (`--task lm`) or of the pooling classifier (`--task classifier`, `ClassifierStepBench`).
///
/// Builds the trainer on random token ids, runs `--warmup` steps, then times `--steps` steps
/// and reports tokens/s (B x T / median step time; the classifier also sequences/s), GFLOP/s
/// (3 x forward FLOPs, the PyTorch peer's convention), the fraction of the FMA peak of the
/// workers measured in the same run, where the step's time went, and memory. `--json` prints
/// one line with the keys of benchmarks/pytorch_reference.py's JSON, so the two can be
/// compared by a script. Under mpirun or srun the language-model step is the job's (B is cut
/// over every process's workers), the FMA peak is summed over the processes, communication is
/// its own part of the split, and rank 0 alone prints and saves; the classifier's step is
/// measured in one process.
struct BenchStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Tokens/s (sequences/s), GFLOP/s, % of FMA peak and time split of the LM or classifier training step.",
        discussion: """
            Presets (vocabulary 1025, B = 64, T = 70): paper 400/1150x3, small 128/512x3, \
            tiny 64/128x3. --emb/--hidden/--layers/--vocab override the preset's values. \
            --task classifier: B = --batch sequences of --length tokens (or lengths drawn from \
            a prepared dataset's train split with --lengths-from), the backward truncated every \
            --bptt tokens, every layer group trainable (--freeze-to: one stage of gradual \
            unfreezing), fastai's classifier dropouts x 0.5.
            """)

    enum Task: String, ExpressibleByArgument, CaseIterable { case lm, classifier }

    @OptionGroup var model: BenchModelOptions
    @OptionGroup var layout: LayoutOptions

    @Option(help: "The step to measure: lm (language model) or classifier (pooling classifier).")
    var task: Task = .lm

    @Option(help: "Classifier: tokens per sequence (124: a 251-nt promoter at k = 5, stride 2, as every sequence of the human set).")
    var length = 124

    @Option(help: "Classifier: draw the sequence lengths from the train split of this prepared dataset (dataset.csv).")
    var lengthsFrom: String?

    @Option(parsing: .unconditional, help: "Classifier: measure the stage after fastai's freeze_to(N): -1 trains the head only, -2 also the last LSTM layer, ...; 0 every group.")
    var freezeTo = 0

    @Option(parsing: .unconditional, help: .key("data.k")) var k: String?
    @Option(parsing: .unconditional, help: .key("data.stride")) var stride: String?

    @Flag(help: "Do not pin the worker threads (the OS scheduler places them).")
    var noBind = false

    @Option(help: "Untimed steps first (allocation, page faults, caches).")
    var warmup = 2

    @Option(help: "Timed steps; the median step time gives tokens/s.")
    var steps = 5

    @Flag(help: "Print one JSON line (keys of benchmarks/pytorch_reference.py --json) instead of text.")
    var json = false

    @Option(help: "Also write the JSON record (pretty-printed) to this path.")
    var save: String?

    @Option(parsing: .unconditional, help: .key("training.deterministic_shards"))
    var deterministicShards: String?

    @OptionGroup var verbosity: VerbosityOptions
    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0 (got \(warmup))") }
        guard steps >= 1 else { throw ValidationError("--steps must be >= 1 (got \(steps))") }
        guard length >= 1 else { throw ValidationError("--length must be >= 1 (got \(length))") }
        if task == .lm && lengthsFrom != nil { throw ValidationError("--lengths-from applies to --task classifier") }
        if task == .lm && freezeTo != 0 { throw ValidationError("--freeze-to applies to --task classifier") }
    }

    func run() throws {
        let (group, _) = try cluster.join(verbosity)
        let file = try model.settings(layout: layout,
                                      [.option("training.deterministic_shards", "--deterministic-shards", deterministicShards),
                                       .option("data.k", "--k", k), .option("data.stride", "--stride", stride)])
        let options = file.languageModelTrainerOptions
        let config = try model.modelConfig(file)
        let progress = !json && !verbosity.quiet
        // Sizes checked against the memory before anything is allocated (a lower bound: one shard;
        // the random data of every step included), as a training run checks them.
        let B = options.batchSize, T = options.bptt, total = Double(warmup + steps)
        switch task {
        case .lm:
            var estimate = MemoryEstimate.languageModel(config: config, batch: B, bptt: T, shards: 1, workers: 1)
            estimate.shared += 4 * Double(B) * Double(T) * total
            try estimate.check(lower: "--batch (\(B)) or --bptt (\(T))")
        case .classifier:
            let parameters = ClassifierParameters(config: config)
            var estimate = MemoryEstimate.classifier(parameters: parameters, batch: B, maxLength: length, shards: 1, workers: 1)
            estimate.shared += 4 * Double(B) * Double(length) * total
            try estimate.check(lower: "--batch (\(B)) or --length (\(length))")
        }
        let record: StepRecord
        switch task {
        case .lm:
            record = try Self.measure(config: config, batch: options.batchSize, bptt: options.bptt,
                                      spec: file.layout.spec, bind: !noBind,
                                      deterministicShards: options.deterministicShards,
                                      warmup: warmup, steps: steps, progress: progress && group.isPrimary,
                                      group: group)
        case .classifier:
            guard group.size == 1 else {
                throw ValidationError("bench step --task classifier measures one process (this job has \(group.size)): run it without mpirun or srun")
            }
            // --k/--stride (data.k/data.stride) turn the dataset's sequences into token counts.
            let lengths = try lengthsFrom.map {
                try ClassifierStepBench.lengths(dataset: $0, k: file.data.k ?? 5, stride: file.data.stride ?? 2)
            }
                ?? [length]
            let classifier = AWDLSTMConfig.classifier(vocabSize: config.vocabSize, embeddingSize: config.embeddingSize,
                                                      hiddenSize: config.hiddenSize, layerCount: config.layerCount)
                .scaled(dropMult: file.classifier.dropMult ?? 0.5)
            record = try ClassifierStepBench.measure(config: classifier, batch: options.batchSize, bptt: options.bptt,
                                                     lengths: lengths, spec: file.layout.spec, bind: !noBind,
                                                     deterministicShards: options.deterministicShards, freezeTo: freezeTo,
                                                     warmup: warmup, steps: steps, progress: progress)
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        if json {
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
        } else {
            print(record.text)
        }
        if let save, group.isPrimary {
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try BenchSupport.writeText(String(decoding: try encoder.encode(record), as: UTF8.self) + "\n", to: save)
        }
    }

    /// Builds a pool and a trainer for `config`, measures the FMA peak on the pool's workers,
    /// runs `warmup` + `steps` steps on random token ids and returns the measurement.
    /// `progress` prints one line per step to stderr (a paper-model step takes seconds).
    static func measure(config: AWDLSTMConfig, batch: Int, bptt: Int, spec: LayoutSpec, bind: Bool,
                        deterministicShards: Int? = nil,
                        warmup: Int, steps: Int, progress: Bool,
                        group: ProcessGroup = SingleProcess()) throws -> StepRecord {
        configureBLASForWorkers()   // one OpenBLAS thread per worker: parallelism is ours
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: ClusterSession.nodeShare.apply(to: spec, topology: topology), topology: topology)
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
        let trainer = try LanguageModelTrainer(config: config, options: options, pool: pool, plan: plan, group: group)

        var walls: [Double] = [], split = StepTiming(), lastLoss = 0.0
        var cpuStart = 0.0
        for s in 0 ..< total {
            if s == warmup { cpuStart = ProcessMemory.cpuSeconds() }
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
        let cpuPerStep = (ProcessMemory.cpuSeconds() - cpuStart) / Double(steps)
        let rssAfter = ProcessMemory.residentMegabytes()
        let peakAfter = workerPeak(pool)
        // The job's peak: every process's workers.
        let peak = group.allGather([max(peakBefore, peakAfter)], label: "the FMA peaks").reduce(0) { $0 + $1[0] }

        walls.sort()
        let median = BenchSupport.median(walls)
        let tokensPerS = Double(batch * bptt) / median
        let flopsPerToken = config.languageModelTrainingFLOPsPerToken
        let gflops = tokensPerS * flopsPerToken / 1e9
        return StepRecord(
            impl: "ulmfit", task: "lm", mode: "data-parallel", processes: group.size, workers: W,
            emb: config.embeddingSize, hidden: config.hiddenSize, layers: config.layerCount,
            vocab: config.vocabSize, batch: batch, bptt: bptt, warmup: warmup, steps: steps,
            tokensPerS: tokensPerS, stepSMedian: median, stepSMin: walls.first!, stepSMax: walls.last!, cpuSPerStep: cpuPerStep,
            flopsPerToken: flopsPerToken, gflops: gflops,
            fmaPeakGflops: peak, fractionOfPeak: gflops / peak,
            timeSplitPct: TimeSplit(split),
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
