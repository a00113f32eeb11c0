/// The FP32 FMA throughput of one core, measured with a loop of independent 8-wide FMAs.
///
/// The reference every benchmark reports against: hosts of one cloud kind differ in clock
/// (99-117 GFLOP/s per core measured), so results are stated as a fraction of the peak
/// measured in the same run.
public enum FMAPeak {
    typealias V = SIMD8<Float>

    /// Runs `iterations` rounds of 12 independent `vfmadd ymm` chains (12 x 8 x 2 FLOP per
    /// round) and returns the achieved GFLOP/s. Twelve chains cover the FMA latency (4
    /// cycles) on two FMA pipes with margin.
    public static func measure(iterations: Int = 200_000_000 / 96) -> Double {
        let clock = ContinuousClock()
        var sink: Float = 0
        let elapsed = clock.measure { sink = fmaLoop(iterations: iterations, seed: 1e-7) }
        if sink.isNaN { print("unreachable") }  // keeps the loop's result observable
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Double(iterations) * 12 * 16 / seconds / 1e9
    }

    @inline(never)
    static func fmaLoop(iterations: Int, seed: Float) -> Float {
        let x = V(repeating: 1 + seed), y = V(repeating: seed)
        var a0 = V(repeating: 0), a1 = V(repeating: 1), a2 = V(repeating: 2), a3 = V(repeating: 3)
        var a4 = V(repeating: 4), a5 = V(repeating: 5), a6 = V(repeating: 6), a7 = V(repeating: 7)
        var a8 = V(repeating: 8), a9 = V(repeating: 9), a10 = V(repeating: 10), a11 = V(repeating: 11)
        for _ in 0..<iterations {
            a0 = a0.addingProduct(x, y); a1 = a1.addingProduct(x, y)
            a2 = a2.addingProduct(x, y); a3 = a3.addingProduct(x, y)
            a4 = a4.addingProduct(x, y); a5 = a5.addingProduct(x, y)
            a6 = a6.addingProduct(x, y); a7 = a7.addingProduct(x, y)
            a8 = a8.addingProduct(x, y); a9 = a9.addingProduct(x, y)
            a10 = a10.addingProduct(x, y); a11 = a11.addingProduct(x, y)
        }
        let s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11))
        return s.sum()
    }
}
