import ArgumentParser
import Foundation
import Kernels

/// `ulmfit bench gemm`: GFLOP/s of OpenBLAS, the own SIMD GEMM and the own GEMM with a
/// pre-packed B, on the matrix products of an AWD-LSTM training step.
struct BenchGemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GEMM GFLOP/s per backend on AWD-LSTM shapes, as a fraction of the FMA peak.")

    @Option(help: "Minimum seconds timed per shape and backend.")
    var minTime: Double = 0.5

    @Option(help: "Only shapes whose name contains this text.")
    var filter: String?

    @Option(help: "Write results as JSON to this path.")
    var json: String?

    @Option(help: "Write results as CSV to this path.")
    var csv: String?

    @OptionGroup var verbosity: VerbosityOptions

    /// One benchmarked product: C[m,n] = op(A)[m,k] op(B)[k,n].
    struct Shape {
        var name: String
        var what: String
        var transA: Transpose
        var transB: Transpose
        var m: Int, k: Int, n: Int
    }

    /// The products of one AWD-LSTM step (paper model 400/1150, small 128/512, tiny 64/128),
    /// B = 64 streams per worker unless noted, T = 70.
    static let shapes: [Shape] = [
        Shape(name: "rec-fwd-1150", what: "G += h W_hh^T, H=1150", transA: .none, transB: .transposed, m: 64, k: 1150, n: 4600),
        Shape(name: "rec-bwd-1150", what: "dh = dG W_hh, H=1150", transA: .none, transB: .none, m: 64, k: 4600, n: 1150),
        Shape(name: "rec-fwd-1150-b32", what: "same, 32 streams/worker", transA: .none, transB: .transposed, m: 32, k: 1150, n: 4600),
        Shape(name: "rec-bwd-1150-b32", what: "same, 32 streams/worker", transA: .none, transB: .none, m: 32, k: 4600, n: 1150),
        Shape(name: "rec-fwd-1150-b16", what: "same, 16 streams/worker", transA: .none, transB: .transposed, m: 16, k: 1150, n: 4600),
        Shape(name: "rec-bwd-1150-b16", what: "same, 16 streams/worker", transA: .none, transB: .none, m: 16, k: 4600, n: 1150),
        Shape(name: "rec-fwd-1150-b8", what: "same, 8 streams/worker", transA: .none, transB: .transposed, m: 8, k: 1150, n: 4600),
        Shape(name: "rec-bwd-1150-b8", what: "same, 8 streams/worker", transA: .none, transB: .none, m: 8, k: 4600, n: 1150),
        Shape(name: "proj-fwd-400", what: "X W_ih^T, all 70 steps", transA: .none, transB: .transposed, m: 4480, k: 400, n: 4600),
        Shape(name: "wgrad-1150", what: "dW = dG^T X, 70 steps", transA: .transposed, transB: .none, m: 4600, k: 4480, n: 1150),
        Shape(name: "l3-in-1150", what: "layer 3 input, H=400", transA: .none, transB: .transposed, m: 64, k: 1150, n: 1600),
        Shape(name: "rec-fwd-400", what: "layer 3 recurrent, H=400", transA: .none, transB: .transposed, m: 64, k: 400, n: 1600),
        Shape(name: "rec-bwd-400", what: "layer 3 recurrent bwd", transA: .none, transB: .none, m: 64, k: 1600, n: 400),
        Shape(name: "rec-fwd-400-b32", what: "layer 3, 32 streams/worker", transA: .none, transB: .transposed, m: 32, k: 400, n: 1600),
        Shape(name: "rec-bwd-400-b32", what: "layer 3 bwd, 32 streams/worker", transA: .none, transB: .none, m: 32, k: 1600, n: 400),
        Shape(name: "rec-fwd-400-b16", what: "layer 3, 16 streams/worker", transA: .none, transB: .transposed, m: 16, k: 400, n: 1600),
        Shape(name: "rec-bwd-400-b16", what: "layer 3 bwd, 16 streams/worker", transA: .none, transB: .none, m: 16, k: 1600, n: 400),
        Shape(name: "rec-fwd-400-b8", what: "layer 3, 8 streams/worker", transA: .none, transB: .transposed, m: 8, k: 400, n: 1600),
        Shape(name: "rec-bwd-400-b8", what: "layer 3 bwd, 8 streams/worker", transA: .none, transB: .none, m: 8, k: 1600, n: 400),
        Shape(name: "rec-fwd-512", what: "small model, H=512", transA: .none, transB: .transposed, m: 64, k: 512, n: 2048),
        Shape(name: "rec-bwd-512", what: "small model bwd", transA: .none, transB: .none, m: 64, k: 2048, n: 512),
        Shape(name: "rec-fwd-128", what: "tiny model, H=128", transA: .none, transB: .transposed, m: 64, k: 128, n: 512),
        Shape(name: "rec-bwd-128", what: "tiny model bwd", transA: .none, transB: .none, m: 64, k: 512, n: 128),
        // The tiny model's batched products at 32 streams/worker (W = 2): short depths (64, 128).
        Shape(name: "tiny-proj-fwd-64", what: "tiny layer 1 X W_ih^T, 32 streams", transA: .none, transB: .transposed, m: 2240, k: 64, n: 512),
        Shape(name: "tiny-proj-fwd-128", what: "tiny layer 2 X W_ih^T, 32 streams", transA: .none, transB: .transposed, m: 2240, k: 128, n: 512),
        Shape(name: "tiny-decoder-fwd", what: "tiny logits = X E^T, V=1025", transA: .none, transB: .transposed, m: 2240, k: 64, n: 1025),
        Shape(name: "tiny-decoder-dx", what: "tiny dX = dLogits E", transA: .none, transB: .none, m: 2240, k: 1025, n: 64),
        Shape(name: "tiny-decoder-wgrad", what: "tiny dE = dLogits^T X", transA: .transposed, transB: .none, m: 1025, k: 2240, n: 64),
        Shape(name: "tiny-dx-128", what: "tiny layer 2 dX = dG W_ih", transA: .none, transB: .none, m: 2240, k: 512, n: 128),
        Shape(name: "tiny-wgrad-128", what: "tiny layer 2 dW = dG^T X", transA: .transposed, transB: .none, m: 512, k: 2240, n: 128),
    ]

    struct Row: Codable {
        var shape: String
        var what: String
        var op: String
        var m: Int, k: Int, n: Int
        var backend: String
        var gflopsBest: Double
        var gflopsMedian: Double
        var fractionOfPeak: Double
    }

    struct Report: Codable {
        var peakGflopsPerCore: Double
        var blas: String
        var rows: [Row]
    }

    func validate() throws {
        guard minTime > 0 else { throw ValidationError("--min-time must be > 0 (got \(minTime))") }
    }

    func run() throws {
        configureBLASForWorkers()
        let peak = BenchPeakCommand.measure(threads: 1, repeats: 5).gflopsPerCoreBest
        print("BLAS: \(blasConfiguration())")
        print(String(format: "FMA peak (1 core, this run): %.1f GFLOP/s", peak))
        let backends = ["openBLAS", "ownSIMD", "ownPacked"]
        print(["shape", "op", "m x k x n"].map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined()
              + backends.map { BenchSupport.pad($0, 17) }.joined() + "   (best GFLOP/s, % of peak)")
        var rows: [Row] = []
        for shape in Self.shapes where filter.map({ shape.name.contains($0) }) ?? true {
            var line = [shape.name, op(shape), "\(shape.m)x\(shape.k)x\(shape.n)"]
                .map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined()
            for backend in backends {
                let (best, median) = measure(shape, backend: backend)
                let flop = 2.0 * Double(shape.m) * Double(shape.k) * Double(shape.n)
                let row = Row(shape: shape.name, what: shape.what, op: op(shape),
                              m: shape.m, k: shape.k, n: shape.n, backend: backend,
                              gflopsBest: flop / best / 1e9, gflopsMedian: flop / median / 1e9,
                              fractionOfPeak: flop / best / 1e9 / peak)
                rows.append(row)
                line += BenchSupport.pad(String(format: "%.1f (%3.0f%%)", row.gflopsBest, 100 * row.fractionOfPeak), 17)
            }
            print(line)
        }
        if let json {
            try BenchSupport.writeJSON(Report(peakGflopsPerCore: peak, blas: blasConfiguration(), rows: rows), to: json)
        }
        if let csv {
            var text = "shape,op,m,k,n,backend,gflops_best,gflops_median,fraction_of_peak\n"
            for r in rows {
                text += "\(r.shape),\(r.op),\(r.m),\(r.k),\(r.n),\(r.backend),"
                    + String(format: "%.2f,%.2f,%.4f\n", r.gflopsBest, r.gflopsMedian, r.fractionOfPeak)
            }
            try BenchSupport.writeText(text, to: csv)
        }
    }

    func op(_ s: Shape) -> String {
        (s.transA == .none ? "N" : "T") + (s.transB == .none ? "N" : "T")
    }

    /// Best and median seconds of one product with `backend`. For "ownPacked" B is packed
    /// once outside the timed region, as the recurrent weights are once per minibatch.
    func measure(_ s: Shape, backend: String) -> (Double, Double) {
        let aCount = s.m * s.k, bCount = s.k * s.n, cCount = s.m * s.n
        let a = UnsafeMutablePointer<Float>.allocate(capacity: aCount)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: bCount)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: cCount)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        for i in 0..<aCount { a[i] = Float(i % 17) * 0.01 - 0.08 }
        for i in 0..<bCount { b[i] = Float(i % 13) * 0.01 - 0.06 }
        c.initialize(repeating: 0, count: cCount)
        let lda = s.transA == .none ? s.k : s.m
        let ldb = s.transB == .none ? s.n : s.k
        switch backend {
        case "ownPacked":
            let packed = PackedMatrix(s.transB, k: s.k, n: s.n, b: b, ldb: ldb)
            return BenchSupport.time(minSeconds: minTime) {
                gemm(s.transA, m: s.m, a: a, lda: lda, packedB: packed, beta: 1, c: c, ldc: s.n)
            }
        default:
            let be = GemmBackend(rawValue: backend)!
            return BenchSupport.time(minSeconds: minTime) {
                gemm(s.transA, s.transB, m: s.m, n: s.n, k: s.k, a: a, lda: lda, b: b, ldb: ldb,
                     beta: 1, c: c, ldc: s.n, backend: be)
            }
        }
    }
}
