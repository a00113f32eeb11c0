import Foundation
import Kernels

/// Row-wise softmax pieces for the cross-entropy losses (vectorized exp).
enum Softmax {
    /// The largest of z[0..<n] and the first index holding it: the max in SIMD (padding lanes
    /// -inf), then a scan for its index.
    @inline(__always)
    private static func maxAndArgmax(_ z: UnsafePointer<Float>, count n: Int) -> (Float, Int) {
        var mv = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        while j < n {
            var v = loadPartial(z + j, min(8, n - j))
            if n - j < 8 { for lane in (n - j) ..< 8 { v[lane] = -.infinity } }
            mv = mv.replacing(with: v, where: v .> mv)
            j += 8
        }
        let m = mv.max()
        var best = 0
        while z[best] != m && best < n - 1 { best += 1 }
        return (m, best)
    }

    /// log(sum(exp(z))) computed stably, and the index of the largest logit.
    static func logSumExpAndArgmax(_ z: UnsafePointer<Float>, count n: Int) -> (Float, Int) {
        let (m, best) = maxAndArgmax(z, count: n)
        return (m + log(VectorMath.sumOfExp(z, count: n, minus: m)), best)
    }

    /// Cross-entropy of one row of logits against `target` and its gradient, in place:
    /// z becomes scale * (softmax(z) - onehot(target)). One exponential per logit (the
    /// numerators are kept, then divided by their sum), where `logSumExpAndArgmax` followed by
    /// `probabilities` takes two. Returns the loss (log-sum-exp minus the target's logit) and
    /// the index of the largest logit (the first, on ties).
    static func crossEntropyGradient(_ z: UnsafeMutablePointer<Float>, count n: Int, target: Int,
                                     scale: Float) -> (loss: Float, argmax: Int) {
        let (m, best) = maxAndArgmax(z, count: n)
        let zTarget = z[target]
        let sum = VectorMath.expInPlace(z, count: n, minus: m)
        VectorMath.scale(z, count: n, by: scale / sum)
        z[target] -= scale
        return (m + log(sum) - zTarget, best)
    }

    /// z[i] = scale * exp(z[i] - logSumExp) (in place).
    static func probabilities(_ z: UnsafeMutablePointer<Float>, count n: Int, logSumExp: Float, scale: Float) {
        VectorMath.exp(z, count: n, minus: logSumExp, times: scale)
    }
}

