/// BatchNorm1d over a [n, C] batch (PyTorch semantics: biased variance to normalize, unbiased
/// variance into the running estimate, momentum 0.1, eps 1e-5).
///
/// The classifier head runs on the whole minibatch at once (after the workers' pooled features
/// are gathered), so batch statistics are those of the whole minibatch whatever the number
/// of workers.
public struct BatchNorm: Sendable {
    public let weight: ParameterSpec
    public let bias: ParameterSpec
    /// Offsets of running mean and running variance in the model's buffer of statistics.
    public let runningMeanOffset: Int
    public let runningVarOffset: Int
    public var momentum: Float = 0.1
    public var eps: Float = 1e-5
    public var channels: Int { weight.count }

    public init(name: String, channels: Int, group: String, layout: inout ParameterLayout,
                statisticsOffset: Int) {
        weight = layout.add("\(name).weight", shape: [channels], group: group)
        bias = layout.add("\(name).bias", shape: [channels], group: group)
        runningMeanOffset = statisticsOffset
        runningVarOffset = statisticsOffset + channels
    }

    /// Floats of running statistics this layer keeps.
    public static func statisticsCount(channels: Int) -> Int { 2 * channels }

    /// Training: normalizes with batch statistics, writes x-hat and 1/sigma for backward, and
    /// updates the running statistics. Evaluation: running statistics.
    ///   x, y, xHat: [n, C]; invStd: [C]
    func forward(_ x: UnsafePointer<Float>, rows n: Int, params: UnsafePointer<Float>,
                 statistics: UnsafeMutablePointer<Float>, training: Bool,
                 xHat: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>,
                 into y: UnsafeMutablePointer<Float>) {
        let C = channels
        let gamma = params + weight.offset, beta = params + bias.offset
        let runMean = statistics + runningMeanOffset, runVar = statistics + runningVarOffset
        for ch in 0 ..< C {
            var mean: Float, variance: Float
            if training {
                var s: Double = 0
                for r in 0 ..< n { s += Double(x[r * C + ch]) }
                let m = s / Double(n)
                var v: Double = 0
                for r in 0 ..< n { let d = Double(x[r * C + ch]) - m; v += d * d }
                mean = Float(m)
                variance = Float(v / Double(n))
                let unbiased = n > 1 ? Float(v / Double(n - 1)) : variance
                runMean[ch] = (1 - momentum) * runMean[ch] + momentum * mean
                runVar[ch] = (1 - momentum) * runVar[ch] + momentum * unbiased
            } else {
                mean = runMean[ch]
                variance = runVar[ch]
            }
            let inv = 1 / (variance + eps).squareRoot()
            invStd[ch] = inv
            for r in 0 ..< n {
                let xh = (x[r * C + ch] - mean) * inv
                xHat[r * C + ch] = xh
                y[r * C + ch] = gamma[ch] * xh + beta[ch]
            }
        }
    }

    /// Training-mode backward: dgamma += sum dy*xhat, dbeta += sum dy,
    /// dx = gamma*invStd*(dy - mean(dy) - xhat*mean(dy*xhat)).
    func backward(dy: UnsafePointer<Float>, rows n: Int, xHat: UnsafePointer<Float>,
                  invStd: UnsafePointer<Float>, params: UnsafePointer<Float>,
                  grads: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let C = channels
        let gamma = params + weight.offset
        for ch in 0 ..< C {
            var sumDy: Double = 0, sumDyXh: Double = 0
            for r in 0 ..< n {
                sumDy += Double(dy[r * C + ch])
                sumDyXh += Double(dy[r * C + ch] * xHat[r * C + ch])
            }
            grads[weight.offset + ch] += Float(sumDyXh)
            grads[bias.offset + ch] += Float(sumDy)
            let meanDy = Float(sumDy / Double(n)), meanDyXh = Float(sumDyXh / Double(n))
            let k = gamma[ch] * invStd[ch]
            for r in 0 ..< n {
                dx[r * C + ch] = k * (dy[r * C + ch] - meanDy - xHat[r * C + ch] * meanDyXh)
            }
        }
    }

    /// fastai's BatchNorm init: weight 1, bias 1e-3; running mean 0, running variance 1.
    func initialize(_ params: UnsafeMutablePointer<Float>, statistics: UnsafeMutablePointer<Float>) {
        for i in weight.range { params[i] = 1 }
        for i in bias.range { params[i] = 1e-3 }
        for ch in 0 ..< channels {
            statistics[runningMeanOffset + ch] = 0
            statistics[runningVarOffset + ch] = 1
        }
    }
}
