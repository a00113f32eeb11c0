import Foundation
import Testing
@testable import Kernels

/// VectorMath against Double libm on dense grids, and its behaviour at extreme inputs.
@Suite struct VectorMathTests {
    typealias V = SIMD8<Float>

    /// Applies `f` to `xs` eight at a time and reports the worst absolute and relative error
    /// against `ref` (relative error only where |ref| >= `relFloor`).
    static func worst(_ xs: [Float], _ f: (V) -> V, _ ref: (Double) -> Double,
                      relFloor: Double = 0) -> (abs: Double, rel: Double, at: Float) {
        var worstAbs = 0.0, worstRel = 0.0, at: Float = 0
        var i = 0
        while i < xs.count {
            var v = V(repeating: 0)
            for l in 0..<8 { v[l] = xs[min(i + l, xs.count - 1)] }
            let y = f(v)
            for l in 0..<8 where i + l < xs.count {
                let r = ref(Double(v[l]))
                let e = abs(Double(y[l]) - r)
                worstAbs = max(worstAbs, e.isNaN ? .infinity : e)
                if abs(r) >= relFloor && r != 0 {
                    let rel = e / abs(r)
                    if rel > worstRel || rel.isNaN { worstRel = rel.isNaN ? .infinity : rel; at = v[l] }
                }
            }
            i += 8
        }
        return (worstAbs, worstRel, at)
    }

    /// Every 1/1024 on [-80, 80] plus a geometric grid near 0 (down to 1e-30).
    static let grid: [Float] = {
        var xs = stride(from: -80.0, through: 80.0, by: 1.0 / 1024).map { Float($0) }
        var t = 1e-30
        while t < 1 { xs.append(Float(t)); xs.append(Float(-t)); t *= 1.07 }
        return xs
    }()

    @Test func expRelativeError() {
        let r = Self.worst(Self.grid, VectorMath.exp, Foundation.exp)
        #expect(r.rel < 2e-7, "exp rel err \(r.rel) at \(r.at)")
    }

    @Test func sigmoidError() {
        let r = Self.worst(Self.grid, VectorMath.sigmoid, { 1 / (1 + Foundation.exp(-$0)) })
        #expect(r.abs < 1e-6, "sigmoid abs err \(r.abs)")
        #expect(r.rel < 1e-6, "sigmoid rel err \(r.rel) at \(r.at)")
    }

    @Test func tanhError() {
        let r = Self.worst(Self.grid, VectorMath.tanh, Foundation.tanh)
        #expect(r.abs < 1e-6, "tanh abs err \(r.abs)")
        #expect(r.rel < 2e-6, "tanh rel err \(r.rel) at \(r.at)")
    }

    /// Documented saturation: no NaN, no negative value, exact +-1 / 0-ish limits.
    @Test func extremeInputs() {
        let x = V(-.infinity, -1e4, -88, -87.5, 87.5, 89, 1e4, .infinity)
        let e = VectorMath.exp(x)
        let s = VectorMath.sigmoid(x)
        let t = VectorMath.tanh(x)
        for l in 0..<8 {
            #expect(!e[l].isNaN && !s[l].isNaN && !t[l].isNaN, "NaN at \(x[l])")
            #expect(e[l] > 0 && e[l].isFinite, "exp(\(x[l])) = \(e[l])")
            #expect(s[l] >= 0 && s[l] <= 1)
        }
        // Clamped ends: e^-87.33654 (smallest normal scale) and e^88.37.
        #expect(e[0] == e[1] && e[0] > 1.1e-38 && e[0] < 1.3e-38)
        #expect(e[6] == e[7] && abs(Double(e[7]) / Foundation.exp(Double(Float(88.37))) - 1) < 2e-7)
        #expect(s[7] == 1 && s[6] == 1 && s[0] < 1e-37)
        #expect(t[0] == -1 && t[1] == -1 && t[6] == 1 && t[7] == 1)
        #expect(VectorMath.exp(V(repeating: .nan))[0].isNaN)
        #expect(VectorMath.tanh(V(repeating: 0)) == V(repeating: 0))
        #expect(VectorMath.sigmoid(V(repeating: 0)) == V(repeating: 0.5))
    }
}

/// The buffer forms apply exactly the per-lane functions, tails included.
@Suite struct VectorMathBufferTests {
    @Test func bufferFormsMatchTheLaneFunctions() {
        for count in 1 ... 21 {
            let x = (0 ..< count).map { Float($0) * 0.37 - 3.1 }
            var s = x, t = [Float](repeating: 0, count: count), e = x
            s.withUnsafeMutableBufferPointer { VectorMath.sigmoid($0.baseAddress!, count: count) }
            x.withUnsafeBufferPointer { src in
                t.withUnsafeMutableBufferPointer { VectorMath.tanh(src.baseAddress!, count: count, into: $0.baseAddress!) }
            }
            e.withUnsafeMutableBufferPointer { VectorMath.exp($0.baseAddress!, count: count, minus: 0.5, times: 2) }
            let sum = x.withUnsafeBufferPointer { VectorMath.sumOfExp($0.baseAddress!, count: count, minus: 0.5) }
            var expectedSum: Float = 0
            for i in 0 ..< count {
                let lane = VectorMath.V(repeating: x[i])
                #expect(s[i] == VectorMath.sigmoid(lane)[0])
                #expect(t[i] == VectorMath.tanh(lane)[0])
                let ex = VectorMath.exp(lane - VectorMath.V(repeating: 0.5))[0]
                #expect(e[i] == 2 * ex)
                expectedSum += ex
            }
            #expect(abs(sum - expectedSum) <= 1e-6 * expectedSum, "count \(count): \(sum) vs \(expectedSum)")
        }
    }
}
