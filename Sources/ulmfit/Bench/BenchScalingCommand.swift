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
///
/// `--ranks 1,2` also measures each worker count as R processes x W workers: for R > 1 it starts
/// `bench step` under the launcher (`--launcher`, mpirun by default: on one machine its processes
/// share the cores, each taking its share) and reads its record. The step is always the same
/// minibatch B, cut over R x W workers; efficiency is against 1 process x 1 worker, and the
/// time split shows communication between processes apart.
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

    @Option(help: ArgumentHelp("Comma-separated process counts to measure each worker count with; must include 1. "
        + "Counts above 1 run `bench step` under --launcher."))
    var ranks = "1"

    @Option(help: "The command that starts N processes, followed by -np N (as root, --allow-run-as-root is added).")
    var launcher = "mpirun --bind-to none"

    @Option(help: "Untimed steps per worker count.")
    var warmup = 2

    @Option(help: "Timed steps per worker count.")
    var steps = 5

    @Option(help: "Directory for scaling.json, scaling.csv and scaling.svg (created if missing).")
    var out: String

    @OptionGroup var verbosity: VerbosityOptions

    func parsedWorkerCounts() throws -> [Int] { try Self.counts(workerCounts, option: "--worker-counts", noun: "worker") }
    func parsedRanks() throws -> [Int] { try Self.counts(ranks, option: "--ranks", noun: "process") }

    /// A comma-separated list of distinct positive counts that includes 1, sorted.
    static func counts(_ list: String, option: String, noun: String) throws -> [Int] {
        var counts: [Int] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            let text = part.trimmingCharacters(in: .whitespaces)
            guard let n = Int(text), n >= 1 else {
                throw ValidationError("\(option): '\(text)' in '\(list)' is not a positive integer")
            }
            guard !counts.contains(n) else { throw ValidationError("\(option): \(n) is listed twice in '\(list)'") }
            counts.append(n)
        }
        guard counts.contains(1) else {
            throw ValidationError("\(option) '\(list)' must include 1: efficiency is relative to one \(noun)")
        }
        return counts.sorted()
    }

    func validate() throws {
        if layout.workers != nil {
            throw ValidationError("bench scaling measures each of --worker-counts (e.g. --worker-counts 1,2,4); --workers does not apply")
        }
        _ = try parsedWorkerCounts()
        _ = try parsedRanks()
        guard !launcher.split(separator: " ").isEmpty else { throw ValidationError("--launcher is empty") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0 (got \(warmup))") }
        guard steps >= 1 else { throw ValidationError("--steps must be >= 1 (got \(steps))") }
    }

    /// One (processes, workers) result, as written to scaling.json.
    struct Row: Codable {
        var processes: Int
        var workers: Int
        var tokensPerS: Double
        /// tokens/s(R x W) / (R x W x tokens/s(1 x 1)).
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
        for r in try parsedRanks() {
            for w in try parsedWorkerCounts() {
                // Several processes on this machine share its units: skip layouts that do not fit.
                if r > 1, (try? WorkerLayout(spec: spec(workers: r * w), topology: topology)) == nil {
                    print("== \(r) processes x \(w) workers: skipped, \(r * w) workers do not fit this machine's units "
                          + "(--oversubscribe to measure anyway)")
                    continue
                }
                print("== \(r) process(es) x \(w) worker(s)")
                let record = r == 1
                    ? try BenchStepCommand.measure(config: config, batch: batch, bptt: bptt, spec: spec(workers: w),
                                                   bind: !noBind, warmup: warmup, steps: steps, progress: false)
                    : try launched(processes: r, workers: w)
                print(record.text)
                records.append(record)
            }
        }
        let one = records.first { $0.processes == 1 && $0.workers == 1 }!
        let rows = records.map {
            Row(processes: $0.processes, workers: $0.workers, tokensPerS: $0.tokensPerS,
                efficiency: $0.tokensPerS / (Double($0.processes * $0.workers) * one.tokensPerS),
                peakNormalizedEfficiency: $0.fractionOfPeak / one.fractionOfPeak,
                speedup: $0.tokensPerS / one.tokensPerS, record: $0)
        }
        let oversubscribed = rows.filter(\.record.oversubscribed).map { "\($0.processes)x\($0.workers)" }
        let note = oversubscribed.isEmpty ? "" :
            "layouts \(oversubscribed) exceed the units: oversubscribed, these are not scaling numbers"

        print("")
        print("procs  workers  tokens/s  speedup  efficiency  (vs peak)  %peak   fwd%   bwd%  allred%   comm%  optim%  idle%  other%")
        for r in rows {
            let s = r.record.timeSplitPct
            print(String(format: "%5d  %7d  %8.0f  %7.2f  %9.1f%%  %8.1f%%  %5.1f  %5.1f  %5.1f  %7.1f  %6.1f  %6.1f  %5.1f  %6.1f",
                         r.processes, r.workers, r.tokensPerS, r.speedup, 100 * r.efficiency, 100 * r.peakNormalizedEfficiency,
                         100 * r.record.fractionOfPeak,
                         s.forward, s.backward, s.allReduce, s.communication, s.optimizer, s.idle, s.other)
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

    /// Runs `bench step` as `processes` processes of `workers` workers under the launcher, with
    /// this command's model, layout and config options, and returns rank 0's record (written to
    /// a temporary file).
    func launched(processes: Int, workers: Int) throws -> StepRecord {
        let save = FileManager.default.temporaryDirectory
            .appendingPathComponent("ulmfit-scaling-\(UUID().uuidString)-\(processes)x\(workers).json").path
        defer { try? FileManager.default.removeItem(atPath: save) }
        var command = launcher.split(separator: " ").map(String.init)
        if getuid() == 0, ["mpirun", "mpiexec", "orterun"].contains((command[0] as NSString).lastPathComponent) {
            command.insert("--allow-run-as-root", at: 1)
        }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        command += ["-np", "\(processes)", me, "bench", "step"] + model.arguments + layout.placementArguments
            + (noBind ? ["--no-bind"] : [])
            + ["--workers", "\(workers)", "--warmup", "\(warmup)", "--steps", "\(steps)", "--json", "--save", save]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: save) else {
            throw BenchError("\(command.joined(separator: " ")) failed (exit \(process.terminationStatus)):\n\(stderr)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(StepRecord.self, from: data)
    }

    func csv(_ rows: [Row]) -> String {
        var text = "processes,workers,tokens_per_s,speedup,efficiency,peak_normalized_efficiency,step_s_median,gflops,fma_peak_gflops,"
            + "fraction_of_peak,prepare_pct,forward_pct,backward_pct,all_reduce_pct,communication_pct,optimizer_pct,idle_pct,other_pct,"
            + "peak_rss_mb,rss_per_worker_mb_estimate,oversubscribed,load_average\n"
        for r in rows {
            let e = r.record, s = e.timeSplitPct
            text += "\(r.processes),\(r.workers)," + [r.tokensPerS, r.speedup, r.efficiency, r.peakNormalizedEfficiency, e.stepSMedian,
                                       e.gflops, e.fmaPeakGflops, e.fractionOfPeak, s.prepare, s.forward, s.backward,
                                       s.allReduce, s.communication, s.optimizer, s.idle, s.other, e.peakRssMb,
                                       e.rssPerWorkerMbEstimate].map { String(format: "%.6g", $0) }.joined(separator: ",")
                + ",\(e.oversubscribed)," + String(format: "%.2f", e.loadAverage) + "\n"
        }
        return text
    }

    /// Against the total worker count R x W, one series per process count.
    func chart(_ rows: [Row], config: String) -> SVGLineChart {
        let base = rows.first { $0.processes == 1 && $0.workers == 1 }!.tokensPerS
        let total = { (r: Row) in Double(r.processes * r.workers) }
        let byProcesses = Dictionary(grouping: rows, by: \.processes).sorted { $0.key < $1.key }
        let label = { (p: Int) in p == 1 ? "" : " (\(p) processes)" }
        var chart = SVGLineChart(
            title: "Training step scaling, \(config)",
            xLabel: "workers (all processes)", yLabel: "tokens/s",
            series: byProcesses.map { p, rs in
                .init(name: "tokens/s" + label(p), points: rs.map { (total($0), $0.tokensPerS) }, markers: true)
            } + [.init(name: "ideal (W x 1 worker)", points: rows.map { (total($0), total($0) * base) }.sorted { $0.0 < $1.0 })])
        chart.rightSeries = byProcesses.flatMap { p, rs in [
            .init(name: "efficiency %" + label(p), points: rs.map { (total($0), 100 * $0.efficiency) }, markers: true),
            .init(name: "efficiency vs measured peak %" + label(p),
                  points: rs.map { (total($0), 100 * $0.peakNormalizedEfficiency) }, markers: true),
        ] }
        chart.rightLabel = "parallel efficiency (%)"
        return chart
    }
}
