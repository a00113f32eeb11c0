import Foundation
import GenomicData
import Kernels
import Model
import Parallel
import Pipeline
import SeededRandom
import Training

/// `ulmfit bench predict`: the throughput of a trained classifier in use, through
/// `ClassifierInference` (the path `ulmfit predict` and `ulmfit scan` take).
///
/// - predict: `sequences` random sequences of `length` k-mer ids (the human promoter set:
///   251 nt = 124 tokens at k = 5, stride 2), classified `repeats` times after one untimed
///   pass: sequences/s, tokens/s, GFLOP/s (2 x the encoder's multiply-adds per token) and the
///   fraction of the FMA peak of the workers, measured in the same run;
/// - scan: `windows` windows of `window` nt every `step` nt along a genome (its ACGT segments,
///   so no window holds an N), cut, k-mer encoded and classified, end to end: windows/s.
///
/// The weights are a fresh initialization: the work (and so the speed) does not depend on
/// their values.
enum PredictBench {
    struct Record: Codable {
        var impl = "ulmfit"
        var task = "predict"
        var mode = "independent batches"
        var workers, emb, hidden, layers, vocab, batch, length, sequences, repeats: Int
        var sequencesPerS, tokensPerS, flopsPerToken, gflops, fmaPeakGflops, fractionOfPeak: Double
        var passSMedian, passSMin, passSMax: Double
        /// Scan (nil when skipped).
        var windowsPerS: Double?
        var windows, window, step: Int?
        var genome: String?
        var peakRssMb: Double
        var boundTo: [String]
        var oversubscribed: Bool
        var blas: String
        var loadAverage: Double

        var text: String {
            var lines = [
                "Classifier inference: E=\(emb) H=\(hidden)x\(layers) V=\(vocab), batches of \(batch) sequences of \(length) tokens, "
                    + "\(workers) worker(s)" + (boundTo.isEmpty ? " (not pinned)" : " on " + boundTo.joined(separator: " ")),
                String(format: "predict: %.1f sequences/s, %.0f tokens/s (median pass over %d sequences %.3f s [%.3f-%.3f], %d passes)",
                       sequencesPerS, tokensPerS, sequences, passSMedian, passSMin, passSMax, repeats),
                String(format: "Compute: %.1f GFLOP/s (%.2f MFLOP/token, forward only) = %.1f%% of the workers' FMA peak %.1f GFLOP/s",
                       gflops, flopsPerToken / 1e6, 100 * fractionOfPeak, fmaPeakGflops),
            ]
            if let windowsPerS, let windows, let window, let step, let genome {
                lines.append(String(format: "scan: %.1f windows/s (%d windows of %d nt every %d nt of %@: cut, encoded and classified)",
                                    windowsPerS, windows, window, step, genome))
            }
            lines.append(String(format: "Memory: peak RSS %.0f MB", peakRssMb))
            lines.append("BLAS: \(blas)")
            lines.append(String(format: "Load average (1 min) at the end: %.2f", loadAverage))
            if oversubscribed { lines.append("WARNING: more workers than units (oversubscribed).") }
            return lines.joined(separator: "\n")
        }
    }

    /// The vocabulary of a k = 5, stride 2 model: every 5-mer (and padding, unknown).
    static func fullVocabulary(k: Int = 5, stride: Int = 2) throws -> Vocabulary {
        var kmers = [""]
        for _ in 0 ..< k { kmers = kmers.flatMap { p in ["A", "C", "G", "T"].map { p + $0 } } }
        return try Vocabulary(kmers: kmers, k: k, stride: stride)
    }

    static func measure(emb: Int, hidden: Int, layers: Int, batch: Int, length: Int, sequences count: Int,
                        repeats: Int, scan: (genome: String, window: Int, step: Int, windows: Int)?,
                        spec: LayoutSpec, bind: Bool, progress: Bool) throws -> Record {
        configureBLASForWorkers()
        let vocabulary = try fullVocabulary()
        let config = AWDLSTMConfig(vocabSize: vocabulary.count, embeddingSize: emb, hiddenSize: hidden, layerCount: layers)
        try config.validate()
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: spec, topology: topology)
        let pool = try WorkerPool(layout: layout, topology: topology, bind: bind)
        let peakBefore = BenchStepCommand.workerPeak(pool)

        let parameters = ClassifierParameters(config: config, classCount: 2)
        // Checked against the memory before anything large is allocated (as predict and scan are).
        var estimate = MemoryEstimate.inference(parameters: parameters, batch: batch, maxLength: length, workers: pool.workerCount)
        estimate.shared += 4 * Double(count) * Double(length)   // the random sequences
        try estimate.check(lower: "--batch (\(batch)), --length (\(length)) or --sequences (\(count))")
        let params = FloatBuffer(count: parameters.layout.count), statistics = FloatBuffer(count: parameters.statisticsCount)
        parameters.initialize(params.pointer, statistics: statistics.pointer, seed: 42)
        let inference = try ClassifierInference(parameters: parameters, params: params.array, statistics: statistics.array,
                                                pool: pool, batchSize: batch, maxLength: length)
        let data = ClassifierStepBench.sequences(count: count, lengths: [length], vocab: config.vocabSize, seed: 7)
        func log(_ s: String) { if progress { FileHandle.standardError.write(Data((s + "\n").utf8)) } }

        _ = try inference.probabilities(Array(data.prefix(pool.workerCount * batch)))   // warm-up
        var passes: [Double] = []
        for r in 0 ..< repeats {
            let t0 = BenchSupport.now()
            _ = try inference.probabilities(data)
            passes.append(BenchSupport.now() - t0)
            log(String(format: "  predict pass %d: %.3f s", r + 1, passes.last!))
        }
        passes.sort()
        let median = BenchSupport.median(passes)

        var scanResult: (perS: Double, windows: Int)?
        if let scan {
            let encoder = try KmerEncoder(vocabulary: vocabulary)
            let segments = try FastaReader(path: scan.genome, policy: .splitAtNonACGT(minLength: scan.window)).readAll().records
            guard !segments.isEmpty else {
                throw DataError(file: scan.genome, "no ACGT stretch of \(scan.window) nt or more to scan")
            }
            let t0 = BenchSupport.now()
            var windows: [[Int32]] = []
            windows.reserveCapacity(scan.windows)
            for segment in segments where windows.count < scan.windows {
                segment.sequence.withUnsafeBufferPointer { bases in
                    var start = 0
                    while start + scan.window <= bases.count && windows.count < scan.windows {
                        var ids: [Int32] = []
                        encoder.encode(UnsafeBufferPointer(rebasing: bases[start ..< start + scan.window]), appendingTo: &ids)
                        windows.append(ids)
                        start += scan.step
                    }
                }
            }
            _ = try inference.probabilities(windows)
            let seconds = BenchSupport.now() - t0
            scanResult = (Double(windows.count) / seconds, windows.count)
            log(String(format: "  scan: %d windows in %.3f s", windows.count, seconds))
        }

        let peak = max(peakBefore, BenchStepCommand.workerPeak(pool))
        let sequencesPerS = Double(count) / median
        let tokensPerS = sequencesPerS * Double(length)
        let flopsPerToken = 2 * Double(config.encoderMACsPerToken)
        let gflops = tokensPerS * flopsPerToken / 1e9
        return Record(workers: pool.workerCount, emb: emb, hidden: hidden, layers: layers, vocab: config.vocabSize,
                      batch: batch, length: length, sequences: count, repeats: repeats,
                      sequencesPerS: sequencesPerS, tokensPerS: tokensPerS, flopsPerToken: flopsPerToken, gflops: gflops,
                      fmaPeakGflops: peak, fractionOfPeak: gflops / peak,
                      passSMedian: median, passSMin: passes.first!, passSMax: passes.last!,
                      windowsPerS: scanResult?.perS, windows: scanResult?.windows, window: scan?.window, step: scan?.step,
                      genome: scan.map { ($0.genome as NSString).lastPathComponent },
                      peakRssMb: ProcessMemory.peakResidentMegabytes(),
                      boundTo: bind ? layout.workers.map(\.location) : [], oversubscribed: layout.isOversubscribed,
                      blas: blasConfiguration(), loadAverage: ProcessMemory.loadAverage())
    }
}
