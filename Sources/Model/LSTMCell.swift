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
        @inline(__always) func pre(_ g: UnsafeMutablePointer<Float>, _ offset: Int, _ n: Int) -> V {
            loadPartial(g + offset, n) + loadPartial(biasIH + offset, n) + loadPartial(biasHH + offset, n)
        }
        for r in 0 ..< b {
            let g = gates + r * 4 * H
            let cp = cPrev + r * H, cn = cNext + r * H, hn = hNext + r * H
            var k = 0
            while k < H {
                let n = min(8, H - k)
                let i = VectorMath.sigmoid(pre(g, k, n))
                let f = VectorMath.sigmoid(pre(g, H + k, n))
                let gg = VectorMath.tanh(pre(g, 2 * H + k, n))
                let o = VectorMath.sigmoid(pre(g, 3 * H + k, n))
                let c = f * loadPartial(cp + k, n) + i * gg
                let h = o * VectorMath.tanh(c)
                storePartial(i, g + k, n)
                storePartial(f, g + H + k, n)
                storePartial(gg, g + 2 * H + k, n)
                storePartial(o, g + 3 * H + k, n)
                storePartial(c, cn + k, n)
                storePartial(h, hn + k, n)
                k += 8
            }
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
        for r in 0 ..< b {
            let g = gates + r * 4 * H
            let cp = cPrev + r * H, cc = c + r * H
            let dha = dhAbove + r * H, dcr = dcCarry + r * H
            let dhr = dhRecurrent.map { $0 + r * H }
            var k = 0
            while k < H {
                let n = min(8, H - k)
                let i = loadPartial(g + k, n), f = loadPartial(g + H + k, n)
                let gg = loadPartial(g + 2 * H + k, n), o = loadPartial(g + 3 * H + k, n)
                let tc = VectorMath.tanh(loadPartial(cc + k, n))
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
