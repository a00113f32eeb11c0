import Kernels

/// The pointwise part of an LSTM step, fused and vectorized (8 hidden units per iteration).
///
/// Gate layout follows PyTorch: each row of the gate matrix holds four blocks of H values,
/// [input i | forget f | cell g | output o].
enum LSTMCell {
    typealias V = SIMD8<Float>

    /// Forward for one step of `b` rows.
    ///   gates:  [b, 4H] pre-activations without bias in, post-activations (i, f, g, o) out
    ///   biasIH, biasHH: [4H], added here (one pass over the gates instead of three)
    ///   cPrev:  [b, H]   cNext, hNext: [b, H] out
    static func forward(gates: UnsafeMutablePointer<Float>, biasIH: UnsafePointer<Float>,
                        biasHH: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                        cNext: UnsafeMutablePointer<Float>, hNext: UnsafeMutablePointer<Float>,
                        rows b: Int, hidden H: Int) {
        let activation = GateActivation(biasIH: biasIH, biasHH: biasHH, hidden: H)
        for r in 0 ..< b { activation.apply(row: gates + r * 4 * H) }
        update(gates: gates, cPrev: cPrev, cNext: cNext, hNext: hNext, rows: b, hidden: H)
    }

    /// The cell after the gates are activated (by `forward`, or by the recurrent product's
    /// `GateActivation` epilogue): c = f * c_prev + i * g, h = o * tanh(c).
    ///   gates: [b, 4H] post-activations   cPrev: [b, H]   cNext, hNext: [b, H] out
    static func update(gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                       cNext: UnsafeMutablePointer<Float>, hNext: UnsafeMutablePointer<Float>,
                       rows b: Int, hidden H: Int) {
        for r in 0 ..< b {
            let g = gates + r * 4 * H
            let cp = cPrev + r * H, cn = cNext + r * H, hn = hNext + r * H
            var k = 0
            while k < H {
                let n = min(8, H - k)
                let c = loadPartial(g + H + k, n) * loadPartial(cp + k, n) + loadPartial(g + k, n) * loadPartial(g + 2 * H + k, n)
                storePartial(c, cn + k, n)
                k += 8
            }
            VectorMath.tanh(cn, count: H, into: hn)
            multiply(hn, by: g + 3 * H, count: H)
        }
    }

    /// Backward for one step of `b` rows.
    ///   gates:   [b, 4H] post-activations in, pre-activation gradients dG out (in place)
    ///   dh:      [b, H] gradient w.r.t. this step's h (from above plus the recurrent carry)
    ///   dcCarry: [b, H] in: gradient w.r.t. this step's c from step t+1; out: w.r.t. c_{t-1}
    static func backward(gates: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>,
                         c: UnsafePointer<Float>, dhAbove: UnsafePointer<Float>,
                         dhRecurrent: UnsafePointer<Float>?, dcCarry: UnsafeMutablePointer<Float>,
                         rows b: Int, hidden H: Int) {
        let one = V(repeating: 1)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: H) { scratch in
        let tanhC = scratch.baseAddress!
        for r in 0 ..< b {
            let g = gates + r * 4 * H
            let cp = cPrev + r * H, cc = c + r * H
            let dha = dhAbove + r * H, dcr = dcCarry + r * H
            let dhr = dhRecurrent.map { $0 + r * H }
            VectorMath.tanh(cc, count: H, into: tanhC)
            var k = 0
            while k < H {
                let n = min(8, H - k)
                let i = loadPartial(g + k, n), f = loadPartial(g + H + k, n)
                let gg = loadPartial(g + 2 * H + k, n), o = loadPartial(g + 3 * H + k, n)
                let tc = loadPartial(tanhC + k, n)
                var dh = loadPartial(dha + k, n)
                if let dhr { dh += loadPartial(dhr + k, n) }
                let dc = loadPartial(dcr + k, n) + dh * o * (one - tc * tc)
                let dGi = dc * gg * i * (one - i)
                let dGf = dc * loadPartial(cp + k, n) * f * (one - f)
                let dGg = dc * i * (one - gg * gg)
                let dGo = dh * tc * o * (one - o)
                storePartial(dGi, g + k, n)
                storePartial(dGf, g + H + k, n)
                storePartial(dGg, g + 2 * H + k, n)
                storePartial(dGo, g + 3 * H + k, n)
                storePartial(dc * f, dcr + k, n)
                k += 8
            }
        }
        }
    }
}
