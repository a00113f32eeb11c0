import Foundation
import OutputFiles

/// Timing and output helpers shared by the `bench` subcommands.
enum BenchSupport {
    /// Seconds since an arbitrary origin (monotonic clock).
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// The median of `sorted` (ascending, not empty): the middle value, or the mean of the two
    /// middle ones for an even count (taking either alone would bias the figure).
    static func median(_ sorted: [Double]) -> Double {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    /// Runs `body` once to warm up, then repeatedly until `minSeconds` have passed (at least
    /// `minRuns` times); returns the fastest and the median run time in seconds. The best
    /// run is the least disturbed one on a shared machine; the median shows the spread.
    static func time(minSeconds: Double, minRuns: Int = 3, _ body: () -> Void) -> (best: Double, median: Double) {
        body()
        var times: [Double] = []
        let start = now()
        while times.count < minRuns || now() - start < minSeconds {
            let t0 = now()
            body()
            times.append(now() - t0)
        }
        times.sort()
        return (times[0], median(times))
    }

    /// Writes an `Encodable` value as pretty-printed JSON, naming the file on failure.
    static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try OutputFile.write(encoder.encode(value), to: path, wanted: "the benchmark results")
    }

    /// Writes text, naming the file on failure.
    static func writeText(_ text: String, to path: String) throws {
        try OutputFile.write(text, to: path, wanted: "the benchmark results")
    }

    /// Fixed-width right-aligned cell.
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
