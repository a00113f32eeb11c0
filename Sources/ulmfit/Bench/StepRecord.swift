import Foundation

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
