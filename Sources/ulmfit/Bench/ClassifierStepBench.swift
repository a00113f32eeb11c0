import Foundation
import GenomicData
import Kernels
import Model
import Parallel
import Pipeline
import SeededRandom
import Training

/// `ulmfit bench step --task classifier`: the pooling classifier's training step, measured as
/// `bench step` measures the language model's.
///
/// Each step is what `train-classifier` runs with every layer group trainable (or, with
/// `freezeTo`, in one stage of gradual unfreezing: fastai's freeze_to(n)): B sequences
/// whose lengths are drawn from `lengths` (the human promoter set: every sequence 251 nt, so
/// 124 tokens at k = 5, stride 2; padded after each sequence to the batch's longest, as a real
/// minibatch is), the encoder over them in BPTT chunks with the backward truncated between
/// chunks, masked concat pooling, the head, cross-entropy and AdamW (the peer's settings:
/// (0.9, 0.99), eps 1e-5, wd 0.01, constant rate). Token ids are random k-mer ids (never
/// padding or unknown), labels random.
enum ClassifierStepBench {
    /// Token counts of the train split of a prepared dataset (`ulmfit prepare`'s dataset.csv)
    /// at k-mer size `k` and `stride`: the length distribution a real run draws its batches from.
    static func lengths(dataset path: String, k: Int, stride: Int) throws -> [Int] {
        let tokenizer = try KmerTokenizer(k: k, stride: stride)
        let train = try PreparedDataset.load(path: path)[.train]
        let counts = train.sequences.map { tokenizer.tokenCount(sequenceLength: $0.count) }.filter { $0 > 0 }
        guard !counts.isEmpty else {
            throw DataError(file: path, field: "sequence", "the train split has no sequence of at least k = \(k) bases")
        }
        return counts
    }

    /// `count` sequences with lengths drawn uniformly from `lengths` and random ids in 2..<vocab.
    static func sequences(count: Int, lengths: [Int], vocab: Int, seed: UInt64) -> [[Int32]] {
        var random = CounterRandom(seed: seed)
        return (0 ..< count).map { _ in
            let n = lengths[Int(random.next() % UInt64(lengths.count))]
            return (0 ..< n).map { _ in Int32(2 + random.next() % UInt64(vocab - 2)) }
        }
    }

    /// Builds a pool and a classifier trainer, measures the FMA peak on the pool's workers,
    /// runs `warmup` + `steps` steps (one fresh batch each) and returns the measurement.
    static func measure(config: AWDLSTMConfig, batch: Int, bptt: Int, lengths: [Int], spec: LayoutSpec, bind: Bool,
                        deterministicShards: Int? = nil, freezeTo: Int = 0, warmup: Int, steps: Int,
                        progress: Bool) throws -> StepRecord {
        configureBLASForWorkers()
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: spec, topology: topology)
        let pool = try WorkerPool(layout: layout, topology: topology, bind: bind)
        let W = pool.workerCount
        let peakBefore = BenchStepCommand.workerPeak(pool)

        let total = warmup + steps
        let data = sequences(count: batch * total, lengths: lengths, vocab: config.vocabSize, seed: 2026)
        let labels = (0 ..< data.count).map { Int32($0 % 2) }
        let batches = try ClassificationBatches(sequences: data, labels: labels, batchSize: batch)
        var options = ClassifierTrainerOptions()
        options.batchSize = batch
        options.bptt = bptt
        options.deterministicShards = deterministicShards
        let parameters = ClassifierParameters(config: config, classCount: 2)
        let optimizerLayout = try OptimizerLayout(model: parameters.layout, groupOrder: parameters.layerGroupOrder)
        var plan = try OptimizerPlan(layout: optimizerLayout, learningRates: .uniform(2e-3),
                                     schedule: ConstantSchedule(totalSteps: total))
        try plan.freezeTo(freezeTo)
        let rssBefore = ProcessMemory.residentMegabytes()
        let trainer = try ClassifierTrainer(config: config, classCount: 2, options: options,
                                            maxLength: lengths.max()!, pool: pool, plan: plan)

        var walls: [Double] = [], split = StepTiming(), lastLoss = 0.0, tokens = 0, padded = 0
        var cpuStart = 0.0
        for s in 0 ..< total {
            if s == warmup { cpuStart = ProcessMemory.cpuSeconds() }
            let b = batches.batch(s)
            let t0 = BenchSupport.now()
            let result = try trainer.trainStep(b)
            let wall = BenchSupport.now() - t0
            lastLoss = result.loss
            if s >= warmup {
                walls.append(wall)
                split = split + result.timing
                tokens += b.lengths.reduce(0, +)
                padded += b.maxLength * b.batchSize
            }
            if progress {
                FileHandle.standardError.write(Data(String(format: "  %@ step %d: %.1f ms, loss %.3f\n",
                    s < warmup ? "warm-up" : "timed", s, wall * 1e3, result.loss).utf8))
            }
        }
        let cpuPerStep = (ProcessMemory.cpuSeconds() - cpuStart) / Double(steps)
        let rssAfter = ProcessMemory.residentMegabytes()
        let peak = max(peakBefore, BenchStepCommand.workerPeak(pool))

        walls.sort()
        let median = BenchSupport.median(walls)
        let tokensPerSequence = Double(tokens) / Double(steps * batch)
        let sequencesPerS = Double(batch) / median
        let tokensPerS = sequencesPerS * tokensPerSequence
        // The encoder's FLOPs per real token (padding is work, not progress): 3 x forward when
        // every group trains, less when frozen layers skip their backward. The head is < 0.1%.
        let flopsPerToken = config.classifierTrainingFLOPsPerToken(scope: trainer.gradientScope(trainable: plan.trainable))
        let gflops = tokensPerS * flopsPerToken / 1e9
        return StepRecord(
            impl: "ulmfit", task: "classifier", mode: "data-parallel", processes: 1, workers: W,
            emb: config.embeddingSize, hidden: config.hiddenSize, layers: config.layerCount,
            vocab: config.vocabSize, batch: batch, bptt: bptt, warmup: warmup, steps: steps,
            tokensPerS: tokensPerS, sequencesPerS: sequencesPerS, length: tokensPerSequence,
            paddedFraction: 1 - Double(tokens) / Double(padded), freezeTo: freezeTo,
            stepSMedian: median, stepSMin: walls.first!, stepSMax: walls.last!, cpuSPerStep: cpuPerStep,
            flopsPerToken: flopsPerToken, gflops: gflops,
            fmaPeakGflops: peak, fractionOfPeak: gflops / peak,
            timeSplitPct: TimeSplit(split),
            peakRssMb: ProcessMemory.peakResidentMegabytes(),
            rssDeltaMb: rssAfter - rssBefore, rssPerWorkerMbEstimate: (rssAfter - rssBefore) / Double(W),
            boundTo: bind ? layout.workers.map(\.location) : [],
            oversubscribed: layout.isOversubscribed, memoryPolicy: trainer.memoryPolicy,
            blas: blasConfiguration(), loadAverage: ProcessMemory.loadAverage(), ceLast: lastLoss)
    }
}
