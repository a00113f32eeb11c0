import Foundation
import Training

/// Where a step's time went, in % of the step's wall time (averaged over workers and steps).
struct TimeSplit: Codable {
    var prepare, forward, backward, allReduce, optimizer, idle: Double
    /// Exchanging with the other processes (MPI); 0 for one process.
    var communication: Double
    /// Not in any phase: zeroing gradients, copying tokens, loss bookkeeping, dispatch.
    var other: Double

    var text: String {
        String(format: "prepare %.1f%%, forward %.1f%%, backward %.1f%%, all-reduce %.1f%%, "
               + "optimizer %.1f%%, communication %.1f%%, idle %.1f%%, other %.1f%%",
               prepare, forward, backward, allReduce, optimizer, communication, idle, other)
    }
}

extension TimeSplit {
    /// The shares of `split`'s wall time (accumulated over the timed steps).
    init(_ split: StepTiming) {
        let percent = { (t: Double) in split.wall > 0 ? 100 * t / split.wall : 0 }
        let accounted = split.prepare + split.forward + split.backward + split.allReduce + split.optimizer
            + split.communication + split.idle
        self.init(prepare: percent(split.prepare), forward: percent(split.forward), backward: percent(split.backward),
                  allReduce: percent(split.allReduce), optimizer: percent(split.optimizer), idle: percent(split.idle),
                  communication: percent(split.communication), other: percent(max(0, split.wall - accounted)))
    }
}

/// One `bench step` measurement; its JSON keys (snake case) match the PyTorch reference's.
struct StepRecord: Codable {
    var impl: String
    /// "lm" or "classifier".
    var task: String
    var mode: String
    /// Processes of the job (mpirun/srun); `workers` is per process.
    var processes: Int
    var workers, emb, hidden, layers, vocab, batch, bptt, warmup, steps: Int
    /// Real (unpadded) tokens per second.
    var tokensPerS: Double
    /// Classifier: sequences per second (B / median step time).
    var sequencesPerS: Double?
    /// Classifier: mean real tokens per sequence.
    var length: Double?
    /// Classifier: the fraction of the padded batch that is padding (computed, not counted).
    var paddedFraction: Double?
    /// Classifier: fastai's freeze_to(n) of the measured stage (0: every group trains).
    var freezeTo: Int?
    var stepSMedian, stepSMin, stepSMax: Double
    /// CPU seconds of all the process's threads per timed step. Time slices taken by other
    /// processes do not count, so on a shared machine this moves less than the wall time: the
    /// figure to compare two builds by (A/B), not a throughput.
    var cpuSPerStep: Double?
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
            (task == "classifier"
                ? String(format: "Classifier: E=%d H=%dx%d V=%d, B=%d sequences of %.1f tokens (padding %.1f%%), BPTT %d, %@, %d worker(s)",
                         emb, hidden, layers, vocab, batch, length ?? 0, 100 * (paddedFraction ?? 0), bptt,
                         (freezeTo ?? 0) == 0 ? "every group trainable" : "freeze_to(\(freezeTo!))", workers)
                : "Model: E=\(emb) H=\(hidden)x\(layers) V=\(vocab), B=\(batch) T=\(bptt), " + (processes > 1 ? "\(processes) processes x " : "") + "\(workers) worker(s)")
                + (boundTo.isEmpty ? " (not pinned)" : " on " + boundTo.joined(separator: " ")),
            "Throughput: " + (sequencesPerS.map { String(format: "%.1f sequences/s, ", $0) } ?? "")
                + String(format: "%.0f tokens/s (median step %.1f ms [%.1f-%.1f] over %d steps after %d warm-up)",
                         tokensPerS, stepSMedian * 1e3, stepSMin * 1e3, stepSMax * 1e3, steps, warmup)
                + (cpuSPerStep.map { String(format: "; CPU %.1f ms per step, all threads", $0 * 1e3) } ?? ""),
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
