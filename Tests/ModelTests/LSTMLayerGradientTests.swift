import Kernels
@testable import Model
import SeededRandom
import Testing

/// Finite-difference checks of LSTMLayer.backward: every weight, bias and the input, with a
/// non-zero initial state and a detached chunk boundary inside the window.
@Suite struct LSTMLayerGradientTests {
    let T = 5, b = 3, I = 4, H = 6, chunk = 3

    @Test func everyGradientMatchesFiniteDifferences() {
        let G = 4 * H
        var rng = CounterRandom(seed: 7)
        func random(_ n: Int, _ scale: Float) -> FloatBuffer {
            FloatBuffer((0 ..< n).map { _ in (2 * rng.nextUnitFloat() - 1) * scale })
        }
        let x = random(T * b * I, 1), wIH = random(G * I, 0.5), wHH = random(G * H, 0.5)
        let bIH = random(G, 0.3), bHH = random(G, 0.3)
        let h0 = random(b * H, 0.5), c0 = random(b * H, 0.5)
        // Loss = sum(h * R) for a fixed random R, so dL/dh = R.
        let R = random(T * b * H, 1)
        let gates = FloatBuffer(count: T * b * G)
        let h = FloatBuffer(count: (T + 1) * b * H), c = FloatBuffer(count: (T + 1) * b * H)
        let weights = LSTMWeights(weightIH: wIH.pointer, weightHH: wHH.pointer,
                                  biasIH: bIH.pointer, biasHH: bHH.pointer)

        // Backward detaches the state at chunk boundaries, so the reference loss does too:
        // each later chunk starts from the boundary state of the unperturbed forward, held
        // constant (`frozen`).
        var frozen: [Int: ([Float], [Float])] = [:]
        func loss() -> Double {
            h.pointer.update(from: h0.pointer, count: b * H)
            c.pointer.update(from: c0.pointer, count: b * H)
            var total = 0.0
            var t0 = 0
            while t0 < T {
                let len = min(chunk, T - t0)
                if let (fh, fc) = frozen[t0] {
                    (h.pointer + t0 * b * H).update(from: fh, count: b * H)
                    (c.pointer + t0 * b * H).update(from: fc, count: b * H)
                }
                LSTMLayer.forward(x: x.pointer + t0 * b * I, weights: weights,
                                  gates: gates.pointer + t0 * b * G,
                                  h: h.pointer + t0 * b * H, c: c.pointer + t0 * b * H,
                                  steps: len, streams: b, input: I, hidden: H)
                // Sum this chunk's outputs before the next chunk overwrites its boundary block.
                for i in t0 * b * H ..< (t0 + len) * b * H { total += Double(h[b * H + i] * R[i]) }
                t0 += len
            }
            return total
        }

        _ = loss()
        for t0 in stride(from: chunk, to: T, by: chunk) {
            frozen[t0] = (Array(UnsafeBufferPointer(start: h.pointer + t0 * b * H, count: b * H)),
                          Array(UnsafeBufferPointer(start: c.pointer + t0 * b * H, count: b * H)))
        }
        let dwIH = FloatBuffer(count: G * I), dwHH = FloatBuffer(count: G * H)
        let dbIH = FloatBuffer(count: G), dbHH = FloatBuffer(count: G), dx = FloatBuffer(count: T * b * I)
        let scratch = FloatBuffer(count: 2 * b * H)
        LSTMLayer.backward(x: x.pointer, weights: weights,
                           gradients: LSTMGradients(weightIH: dwIH.pointer, weightHH: dwHH.pointer,
                                                    biasIH: dbIH.pointer, biasHH: dbHH.pointer),
                           gates: gates.pointer, h: h.pointer, c: c.pointer, dhAbove: R.pointer,
                           dx: dx.pointer, scratch: scratch.pointer,
                           steps: T, streams: b, input: I, hidden: H, chunk: chunk)

        for (name, value, grad) in [("weight_ih", wIH, dwIH), ("weight_hh", wHH, dwHH),
                                    ("bias_ih", bIH, dbIH), ("bias_hh", bHH, dbHH), ("input", x, dx)] {
            expectGradientsMatch(name: name, count: value.count, analytic: { grad[$0] },
                                 perturb: { value[$0] += $1 }, loss: loss)
        }
    }
}
