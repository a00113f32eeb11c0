import Foundation

/// The AdamW update kernel, fastai's formulation (`Adam(..., decouple_wd=True)`):
///
///     p = p * (1 - lr*wd)                        // decoupled weight decay, first
///     g = g * gradScale
///     m = beta1*m + (1-beta1)*g                  // fastai average_grad(dampening=True)
///     v = beta2*v + (1-beta2)*g*g                // fastai average_sqr_grad
///     p = p - (lr/debias1) * m / (sqrt(v/debias2) + eps)
///
/// with `debias1 = 1 - beta1^t`, `debias2 = 1 - beta2^t`, `t` counting from 1 and `beta1` the
/// current (scheduled) value, as in fastai. Note where eps sits: outside the square root of the
/// debiased second moment, like fastai and PyTorch.
///
/// The loop is memory-bound (7 floats of traffic per parameter), so it is a single fused pass
/// in `SIMD8<Float>` with a scalar tail that performs the same operations in the same order,
/// which makes the result independent of how the buffer is sliced across workers.
///
/// Speed note: Swift lowers `squareRoot()` to libm `sqrtf` with an errno check, one lane at a
/// time, unless the module is compiled with `-Xcc -fno-math-errno`; with it the loop uses
/// `vsqrtps` and runs about twice as fast (20 M parameters: 50 ms -> 22 ms on one Zen 3 core).
public enum AdamW {
    /// Per-segment scalars, computed in `Double` and rounded once.
    public struct Coefficients: Sendable, Equatable {
        public var decay: Float
        public var gradScale: Float
        public var beta1: Float
        public var oneMinusBeta1: Float
        public var beta2: Float
        public var oneMinusBeta2: Float
        public var debias2: Float
        public var stepSize: Float
        public var eps: Float

        /// - Parameters:
        ///   - step: the 1-based step count of the group being updated.
        ///   - appliesWeightDecay: false for parameters exempt from weight decay.
        public init(learningRate lr: Double, step: Int, beta1: Double, beta2: Double, eps: Double,
                    weightDecay: Double, appliesWeightDecay: Bool, gradScale: Float) {
            let t = Double(step)
            decay = appliesWeightDecay ? Float(1 - lr * weightDecay) : 1
            self.gradScale = gradScale
            self.beta1 = Float(beta1)
            oneMinusBeta1 = Float(1 - beta1)
            self.beta2 = Float(beta2)
            oneMinusBeta2 = Float(1 - beta2)
            debias2 = Float(1 - pow(beta2, t))
            stepSize = Float(lr / (1 - pow(beta1, t)))
            self.eps = Float(eps)
        }
    }

    /// Updates `count` parameters in place together with their moment estimates.
    public static func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                              expAvg: UnsafeMutablePointer<Float>, expAvgSq: UnsafeMutablePointer<Float>,
                              count: Int, _ c: Coefficients) {
        typealias V = SIMD8<Float>
        let decay = V(repeating: c.decay), gradScale = V(repeating: c.gradScale)
        let beta1 = V(repeating: c.beta1), oneMinusBeta1 = V(repeating: c.oneMinusBeta1)
        let beta2 = V(repeating: c.beta2), oneMinusBeta2 = V(repeating: c.oneMinusBeta2)
        let debias2 = V(repeating: c.debias2), stepSize = V(repeating: c.stepSize)
        let eps = V(repeating: c.eps)
        let p = UnsafeMutableRawPointer(params), g = UnsafeRawPointer(grads)
        let m = UnsafeMutableRawPointer(expAvg), v = UnsafeMutableRawPointer(expAvgSq)
        var i = 0
        while i + 8 <= count {
            let offset = i * MemoryLayout<Float>.stride
            let grad = g.loadUnaligned(fromByteOffset: offset, as: V.self) * gradScale
            let param = p.loadUnaligned(fromByteOffset: offset, as: V.self) * decay
            let avg = beta1 * m.loadUnaligned(fromByteOffset: offset, as: V.self) + oneMinusBeta1 * grad
            let sqrAvg = beta2 * v.loadUnaligned(fromByteOffset: offset, as: V.self) + oneMinusBeta2 * (grad * grad)
            let denominator = (sqrAvg / debias2).squareRoot() + eps
            m.storeBytes(of: avg, toByteOffset: offset, as: V.self)
            v.storeBytes(of: sqrAvg, toByteOffset: offset, as: V.self)
            p.storeBytes(of: param - stepSize * (avg / denominator), toByteOffset: offset, as: V.self)
            i += 8
        }
        while i < count {
            let grad = grads[i] * c.gradScale
            let param = params[i] * c.decay
            let avg = c.beta1 * expAvg[i] + c.oneMinusBeta1 * grad
            let sqrAvg = c.beta2 * expAvgSq[i] + c.oneMinusBeta2 * (grad * grad)
            let denominator = (sqrAvg / c.debias2).squareRoot() + c.eps
            expAvg[i] = avg
            expAvgSq[i] = sqrAvg
            params[i] = param - c.stepSize * (avg / denominator)
            i += 1
        }
    }
}
