import Foundation
import Kernels

/// The pooling classifier's head over a whole minibatch of pooled features, forward and
/// backward, with the cross-entropy loss. Runs on one thread after the workers' features are
/// gathered: it is ~0.1% of the step's FLOPs, and seeing the whole minibatch makes BatchNorm's
/// statistics exact and independent of the number of workers.
public final class ClassifierHead {
    public let parameters: ClassifierParameters
    public let capacity: Int
    private var F: Int { parameters.bn0.channels }
    private var K: Int { parameters.linear0.outputSize }
    private var C: Int { parameters.classCount }

    private let xHat0, a0, mask0, dA0: FloatBuffer       // [n, 3E]
    private let invStd0: FloatBuffer                    // [3E]
    private let z1, xHat1, a1, mask1, dA1: FloatBuffer  // [n, 50]
    private let invStd1: FloatBuffer                    // [50]
    /// [n, C]: logits after forward; dLoss/dLogits after `lossAndBackward`.
    public let logits: FloatBuffer
    /// [n, 3E]: gradient w.r.t. the pooled features after `lossAndBackward`.
    public let dFeatures: FloatBuffer
    private var lastRows = 0, lastTraining = false

    public init(parameters: ClassifierParameters, capacity n: Int) {
        self.parameters = parameters
        capacity = n
        let F = parameters.bn0.channels, K = parameters.linear0.outputSize
        xHat0 = FloatBuffer(count: n * F); a0 = FloatBuffer(count: n * F)
        mask0 = FloatBuffer(count: n * F); dA0 = FloatBuffer(count: n * F)
        invStd0 = FloatBuffer(count: F)
        z1 = FloatBuffer(count: n * K); xHat1 = FloatBuffer(count: n * K); a1 = FloatBuffer(count: n * K)
        mask1 = FloatBuffer(count: n * K); dA1 = FloatBuffer(count: n * K)
        invStd1 = FloatBuffer(count: K)
        logits = FloatBuffer(count: n * parameters.classCount)
        dFeatures = FloatBuffer(count: n * F)
    }

    /// features: [n, 3E] -> logits [n, C]. `dropout` nil: evaluation (running statistics,
    /// no dropout). Training updates the BatchNorm running statistics.
    public func forward(features: UnsafePointer<Float>, rows n: Int, params: UnsafePointer<Float>,
                        statistics: UnsafeMutablePointer<Float>, dropout key: DropoutKey?) {
        precondition(n <= capacity, "batch larger than the head's capacity")
        let p = parameters, training = key != nil
        lastRows = n; lastTraining = training
        p.bn0.forward(features, rows: n, params: params, statistics: statistics, training: training,
                      xHat: xHat0.pointer, invStd: invStd0.pointer, into: a0.pointer)
        if let key {
            HeadDropout(p: p.headDropouts[0]).fillMask(mask0.pointer, sequences: n, firstSequence: 0,
                                                       width: F, layer: 0, key: key)
            multiply(a0.pointer, by: mask0.pointer, count: n * F)
        }
        p.linear0.forward(a0.pointer, rows: n, params: params, into: z1.pointer)
        // ReLU into a1, then BatchNorm in place on a copy (bn1 reads a1, writes a1 via xHat1).
        for i in 0 ..< n * K { a1[i] = max(z1[i], 0) }
        p.bn1.forward(a1.pointer, rows: n, params: params, statistics: statistics, training: training,
                      xHat: xHat1.pointer, invStd: invStd1.pointer, into: a1.pointer)
        if let key {
            HeadDropout(p: p.headDropouts[1]).fillMask(mask1.pointer, sequences: n, firstSequence: 0,
                                                       width: K, layer: 1, key: key)
            multiply(a1.pointer, by: mask1.pointer, count: n * K)
        }
        p.linear1.forward(a1.pointer, rows: n, params: params, into: logits.pointer)
    }

    /// Cross-entropy of the last forward's logits against `labels`, summed over rows; then
    /// backward through the head with dLoss scaled by `gradScale` (1/n for the batch mean),
    /// accumulating head gradients into `grads` and writing `dFeatures`.
    public func lossAndBackward(labels: UnsafePointer<Int32>, params: UnsafePointer<Float>,
                                grads: UnsafeMutablePointer<Float>, gradScale: Float) -> (lossSum: Double, correct: Int) {
        let (lossSum, correct) = crossEntropy(labels: labels, gradScale: gradScale)
        let p = parameters, n = lastRows
        p.linear1.backward(a1.pointer, dy: logits.pointer, rows: n, params: params, grads: grads, dx: dA1.pointer)
        if lastTraining { multiply(dA1.pointer, by: mask1.pointer, count: n * K) }
        p.bn1.backward(dy: dA1.pointer, rows: n, xHat: xHat1.pointer, invStd: invStd1.pointer,
                       params: params, grads: grads, dx: dA1.pointer)
        for i in 0 ..< n * K where z1[i] <= 0 { dA1[i] = 0 }
        p.linear0.backward(a0.pointer, dy: dA1.pointer, rows: n, params: params, grads: grads, dx: dA0.pointer)
        if lastTraining { multiply(dA0.pointer, by: mask0.pointer, count: n * F) }
        p.bn0.backward(dy: dA0.pointer, rows: n, xHat: xHat0.pointer, invStd: invStd0.pointer,
                       params: params, grads: grads, dx: dFeatures.pointer)
        return (lossSum, correct)
    }

    /// Summed cross-entropy and correct predictions of the last forward, without backward.
    public func loss(labels: UnsafePointer<Int32>) -> (lossSum: Double, correct: Int) {
        var loss = 0.0, correct = 0
        for r in 0 ..< lastRows {
            let z = logits.pointer + r * C
            let (lse, best) = Softmax.logSumExpAndArgmax(z, count: C)
            loss += Double(lse - z[Int(labels[r])])
            if best == Int(labels[r]) { correct += 1 }
        }
        return (loss, correct)
    }

    /// Replaces logits by (softmax - onehot) * gradScale.
    private func crossEntropy(labels: UnsafePointer<Int32>, gradScale: Float) -> (Double, Int) {
        let result = loss(labels: labels)
        for r in 0 ..< lastRows {
            let z = logits.pointer + r * C
            let (lse, _) = Softmax.logSumExpAndArgmax(z, count: C)
            Softmax.probabilities(z, count: C, logSumExp: lse, scale: gradScale)
            z[Int(labels[r])] -= gradScale
        }
        return result
    }
}
