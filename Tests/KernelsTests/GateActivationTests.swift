import Testing
import Foundation
@testable import Kernels

/// The recurrent product's gate epilogue: the same gates as the product followed by a separate
/// activation pass, and sigmoid/tanh on the right columns.
@Suite struct GateActivationTests {
    /// The epilogue runs on the tiles of the product, after the last depth block; the separate
    /// pass runs on whole rows afterwards. The product's values and the activation function are
    /// the same in both (same kernel, same per-lane math), so the results are bitwise equal.
    /// Shapes: H = 13 (4H = 52: gate edges at 13, 26, 39 fall inside vectors and tiles),
    /// H = 24; depth 450 (two depth blocks); 1-9 rows (edge tiles); both panel widths.
    @Test(arguments: ["packed24", "packed16"])
    func epilogueEqualsASeparatePass(path: String) {
        for (H, k) in [(13, 450), (24, 37), (13, 5)] {
            let n = 4 * H
            for m in [1, 4, 5, 9] {
                let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
                let b = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
                let bias = UnsafeMutablePointer<Float>.allocate(capacity: 2 * n)
                let c0 = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
                let fused = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
                let separate = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
                defer { for p in [a, b, bias, c0, fused, separate] { p.deallocate() } }
                GemmTests.fill(a, m * k, seed: UInt64(m + k))
                GemmTests.fill(b, n * k, seed: UInt64(n + 3))
                GemmTests.fill(bias, 2 * n, seed: 11)
                GemmTests.fill(c0, m * n, seed: 5)
                let packed = PackedMatrix(k: k, n: n, nr: path == "packed24" ? 24 : 16)
                packed.pack(.transposed, b: b, ldb: k)
                let activation = GateActivation(biasIH: bias, biasHH: bias + n, hidden: H)
                fused.update(from: c0, count: m * n)
                separate.update(from: c0, count: m * n)
                gemm(m: m, a: a, lda: k, packedB: packed, beta: 1, c: fused, ldc: n, activation: activation)
                gemm(m: m, a: a, lda: k, packedB: packed, beta: 1, c: separate, ldc: n)
                for r in 0 ..< m { activation.apply(row: separate + r * n) }
                let same = (0 ..< m * n).allSatisfy { fused[$0].bitPattern == separate[$0].bitPattern }
                #expect(same, "H=\(H) k=\(k) m=\(m) \(path)")
            }
        }
    }

    /// Columns [0, 2H) and [3H, 4H) get sigmoid, [2H, 3H) tanh, after both biases are added.
    @Test func gatesGetTheirFunctions() {
        let H = 11, n = 4 * H
        let row = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let bias = UnsafeMutablePointer<Float>.allocate(capacity: 2 * n)
        defer { row.deallocate(); bias.deallocate() }
        for j in 0 ..< n {
            row[j] = Float(j - 20) * 0.15
            bias[j] = 0.01 * Float(j % 5)
            bias[n + j] = -0.02
        }
        let x = (0 ..< n).map { Double(row[$0]) + Double(bias[$0]) + Double(bias[n + $0]) }
        GateActivation(biasIH: bias, biasHH: bias + n, hidden: H).apply(row: row)
        for j in 0 ..< n {
            let expected = j >= 2 * H && j < 3 * H ? Foundation.tanh(x[j]) : 1 / (1 + Foundation.exp(-x[j]))
            #expect(abs(Double(row[j]) - expected) < 1e-6, "column \(j): \(row[j]) vs \(expected)")
        }
    }
}
