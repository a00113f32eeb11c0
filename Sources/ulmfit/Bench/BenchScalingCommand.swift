import ArgumentParser
import Foundation
import OutputFiles
import Parallel
import Pipeline
import Reporting

/// `ulmfit bench scaling`: the training step at several worker counts, with parallel efficiency.
///
/// For each worker count a fresh pool and trainer are built (the same model, batch and seed),
/// then measured as `bench step` does. Efficiency(W) = tokens/s(W) / (W x tokens/s(1)), with
/// tokens/s(1) measured in the same run (the list must hold 1). Writes DIR/scaling.json (every
/// measurement, time split included), DIR/scaling.csv (one row per W) and DIR/scaling.svg
/// (tokens/s, ideal scaling and efficiency against W).
struct BenchScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Tokens/s and parallel efficiency of the LM training step against the worker count.")

    @OptionGroup var model: BenchModelOptions
    @OptionGroup var layout: LayoutOptions

    @Flag(help: "Do not pin the worker threads (the OS scheduler places them).")
    var noBind = false

    @Option(help: "Comma-separated worker counts to measure; must include 1 (the efficiency baseline).")
    var workerCounts = "1,2"

    @Option(help: "Untimed steps per worker count.")
    var warmup = 2

    @Option(help: "Timed steps per worker count.")
    var steps = 5

    @Option(help: "Directory for scaling.json, scaling.csv and scaling.svg (created if missing).")
    var out: String

    @OptionGroup var verbosity: VerbosityOptions

    func parsedWorkerCounts() throws -> [Int] {
        var counts: [Int] = []
        for part in workerCounts.split(separator: ",", omittingEmptySubsequences: false) {
            let text = part.trimmingCharacters(in: .whitespaces)
            guard let n = Int(text), n >= 1 else {
                throw ValidationError("--worker-counts: '\(text)' in '\(workerCounts)' is not a positive integer")
            }
            guard !counts.contains(n) else {
                throw ValidationError("--worker-counts: \(n) is listed twice in '\(workerCounts)'")
            }
            counts.append(n)
        }
        guard counts.contains(1) else {
            throw ValidationError("--worker-counts '\(workerCounts)' must include 1: efficiency is relative to one worker")
        }
        return counts.sorted()
    }

    func validate() throws {
        if layout.workers != nil {
            throw ValidationError("bench scaling measures each of --worker-counts (e.g. --worker-counts 1,2,4); --workers does not apply")
        }
        _ = try parsedWorkerCounts()
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0 (got \(warmup))") }
        guard steps >= 1 else { throw ValidationError("--steps must be >= 1 (got \(steps))") }
    }

    /// One worker count's result, as written to scaling.json.
    struct Row: Codable {
        var workers: Int
        var tokensPerS: Double
        /// tokens/s(W) / (W x tokens/s(1)).
        var efficiency: Double
        /// fraction of peak(W) / fraction of peak(1): the efficiency against the FMA peak the
        /// workers actually got in this run (on a shared machine a busy core lowers both).
        var peakNormalizedEfficiency: Double
        var speedup: Double
        var record: StepRecord
    }

    struct Report: Codable {
        var preset: String
        var policy: String
        var bound: Bool
        var note: String
        var rows: [Row]
    }

    func run() throws {
        let settings = try model.settings(layout: layout)
        let config = try model.modelConfig(settings)
        let options = settings.languageModelTrainerOptions
        let (batch, bptt) = (options.batchSize, options.bptt)
        func spec(workers: Int) -> LayoutSpec {
            var spec = settings.layout.spec
            spec.workers = workers
            return spec
        }
        // Plan every layout first, so an impossible worker count fails before any measurement.
        let topology = try Topology.machine()
        for w in try parsedWorkerCounts() {
            _ = try WorkerLayout(spec: spec(workers: w), topology: topology)
        }
        try OutputFile.checkCanCreateDirectory(out)
        var records: [StepRecord] = []
        for w in try parsedWorkerCounts() {
            print("== \(w) worker(s)")
            let record = try BenchStepCommand.measure(config: config, batch: batch, bptt: bptt,
                                                      spec: spec(workers: w), bind: !noBind,
                                                      warmup: warmup, steps: steps, progress: false)
            print(record.text)
            records.append(record)
        }
        let one = records.first { $0.workers == 1 }!
        let rows = records.map {
            Row(workers: $0.workers, tokensPerS: $0.tokensPerS,
                efficiency: $0.tokensPerS / (Double($0.workers) * one.tokensPerS),
                peakNormalizedEfficiency: $0.fractionOfPeak / one.fractionOfPeak,
                speedup: $0.tokensPerS / one.tokensPerS, record: $0)
        }
        let oversubscribed = rows.filter(\.record.oversubscribed).map(\.workers)
        let note = oversubscribed.isEmpty ? "" :
            "worker counts \(oversubscribed) exceed the units: oversubscribed, these are not scaling numbers"

        print("")
        print("workers  tokens/s  speedup  efficiency  (vs peak)  %peak   fwd%   bwd%  allred%  optim%  idle%  other%")
        for r in rows {
            let s = r.record.timeSplitPct
            print(String(format: "%7d  %8.0f  %7.2f  %9.1f%%  %8.1f%%  %5.1f  %5.1f  %5.1f  %7.1f  %6.1f  %5.1f  %6.1f",
                         r.workers, r.tokensPerS, r.speedup, 100 * r.efficiency, 100 * r.peakNormalizedEfficiency,
                         100 * r.record.fractionOfPeak,
                         s.forward, s.backward, s.allReduce, s.optimizer, s.idle, s.other)
                  + (r.record.oversubscribed ? "  (oversubscribed)" : ""))
        }
        if !note.isEmpty { print("WARNING: \(note).") }
        print("(vs peak): efficiency against the FMA peak the workers got in this run, "
              + "fraction of peak(W) / fraction of peak(1); differs from efficiency when other processes share the cores.")

        let report = Report(preset: model.name(settings), policy: spec(workers: 1).policy.rawValue, bound: !noBind,
                            note: note, rows: rows)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try OutputFile.makeDirectory(out)
        let jsonPath = (out as NSString).appendingPathComponent("scaling.json")
        try OutputFile.write(encoder.encode(report), to: jsonPath, wanted: "the scaling results")
        let csvPath = (out as NSString).appendingPathComponent("scaling.csv")
        try BenchSupport.writeText(csv(rows), to: csvPath)
        let svgPath = (out as NSString).appendingPathComponent("scaling.svg")
        try chart(rows, config: "E=\(config.embeddingSize) H=\(config.hiddenSize)x\(config.layerCount), B=\(batch) T=\(bptt)")
            .write(to: svgPath)
        print("Wrote \(jsonPath), \(csvPath), \(svgPath)")
    }

    func csv(_ rows: [Row]) -> String {
        var text = "workers,tokens_per_s,speedup,efficiency,peak_normalized_efficiency,step_s_median,gflops,fma_peak_gflops,fraction_of_peak,"
            + "prepare_pct,forward_pct,backward_pct,all_reduce_pct,optimizer_pct,idle_pct,other_pct,"
            + "peak_rss_mb,rss_per_worker_mb_estimate,oversubscribed,load_average\n"
        for r in rows {
            let e = r.record, s = e.timeSplitPct
            text += "\(r.workers)," + [r.tokensPerS, r.speedup, r.efficiency, r.peakNormalizedEfficiency, e.stepSMedian, e.gflops,
                                       e.fmaPeakGflops, e.fractionOfPeak, s.prepare, s.forward, s.backward,
                                       s.allReduce, s.optimizer, s.idle, s.other, e.peakRssMb,
                                       e.rssPerWorkerMbEstimate].map { String(format: "%.6g", $0) }.joined(separator: ",")
                + ",\(e.oversubscribed)," + String(format: "%.2f", e.loadAverage) + "\n"
        }
        return text
    }

    func chart(_ rows: [Row], config: String) -> SVGLineChart {
        let base = rows.first { $0.workers == 1 }!.tokensPerS
        var chart = SVGLineChart(
            title: "Training step scaling, \(config)",
            xLabel: "workers", yLabel: "tokens/s",
            series: [
                .init(name: "tokens/s", points: rows.map { (Double($0.workers), $0.tokensPerS) }, markers: true),
                .init(name: "ideal (W x 1 worker)", points: rows.map { (Double($0.workers), Double($0.workers) * base) }),
            ])
        chart.rightSeries = [
            .init(name: "efficiency %", points: rows.map { (Double($0.workers), 100 * $0.efficiency) }, markers: true),
            .init(name: "efficiency vs measured peak %",
                  points: rows.map { (Double($0.workers), 100 * $0.peakNormalizedEfficiency) }, markers: true),
        ]
        chart.rightLabel = "parallel efficiency (%)"
        return chart
    }
}
