import ArgumentParser
import Dispatch
import Kernels

/// `ulmfit bench peak`: FP32 FMA peak per core (and of N concurrent threads).
struct BenchPeakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "Measure the FP32 FMA peak (GFLOP/s) with independent 8-wide FMA chains.")

    @Option(help: "Number of threads running the FMA loop at once (not pinned).")
    var threads: Int = 1

    @Option(help: "Repetitions; the best is reported.")
    var repeats: Int = 5

    @Option(help: "Write the result as JSON to this path.")
    var json: String?

    @OptionGroup var verbosity: VerbosityOptions

    struct Result: Codable {
        var threads: Int
        var gflopsPerThread: [Double]
        var gflopsTotal: Double
        var gflopsPerCoreBest: Double
    }

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be >= 1 (got \(threads))") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be >= 1 (got \(repeats))") }
    }

    func run() throws {
        let result = Self.measure(threads: threads, repeats: repeats)
        print("FMA peak, \(threads) thread(s): " +
              result.gflopsPerThread.map { String(format: "%.1f", $0) }.joined(separator: " + ") +
              String(format: " = %.1f GFLOP/s (best per core %.1f)", result.gflopsTotal, result.gflopsPerCoreBest))
        if let json { try BenchSupport.writeJSON(result, to: json) }
    }

    /// Best of `repeats` runs of the FMA loop on `threads` threads at once.
    static func measure(threads: Int, repeats: Int) -> Result {
        var best = [Double](repeating: 0, count: threads)
        for _ in 0..<repeats {
            let box = ResultBox(count: threads)
            DispatchQueue.concurrentPerform(iterations: threads) { i in
                box.set(i, FMAPeak.measure())
            }
            if box.values.reduce(0, +) > best.reduce(0, +) { best = box.values }
        }
        return Result(threads: threads, gflopsPerThread: best, gflopsTotal: best.reduce(0, +),
                      gflopsPerCoreBest: best.max() ?? 0)
    }
}

/// Per-thread result slots written from `concurrentPerform` (each index by one thread).
private final class ResultBox: @unchecked Sendable {
    private(set) var values: [Double]
    init(count: Int) { values = [Double](repeating: 0, count: count) }
    func set(_ i: Int, _ v: Double) { values.withUnsafeMutableBufferPointer { $0[i] = v } }
}
