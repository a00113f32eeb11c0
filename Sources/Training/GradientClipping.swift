/// Clipping by the global gradient norm, as `torch.nn.utils.clip_grad_norm_` (which fastai's
/// `GradientClip` callback calls), split so that data-parallel workers can share the work:
///
/// 1. each worker sums the squares of the trainable gradients in its own slice,
///    `sumOfSquares(grads:slice:layout:trainable:)`;
/// 2. the trainer adds the partial sums of all workers (in `Double`);
/// 3. `clipScale(totalSquaredNorm:maxNorm:)` gives the factor that every worker then applies
///    on the fly through `AdamWStepSettings.gradScale`.
///
/// Frozen groups are excluded from the norm, as in fastai: their parameters have
/// `requires_grad=False`, hence no `.grad`, and `clip_grad_norm_` only sees parameters with one.
public enum GradientClipping {
    /// Sum of squares of `count` floats, accumulated in `Float` within blocks of 256 elements
    /// and in `Double` across blocks, so the result stays accurate for 20 M-element buffers.
    public static func sumOfSquares(_ values: UnsafePointer<Float>, count: Int) -> Double {
        typealias V = SIMD8<Float>
        let raw = UnsafeRawPointer(values)
        let width = 8, blockSize = 256
        var total = 0.0
        var i = 0
        while i + width <= count {
            let blockEnd = min(count - (count - i) % width, i + blockSize)
            var a0 = V(), a1 = V()
            while i + 2 * width <= blockEnd {
                let x0 = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                let x1 = raw.loadUnaligned(fromByteOffset: (i + width) * 4, as: V.self)
                a0 += x0 * x0
                a1 += x1 * x1
                i += 2 * width
            }
            if i + width <= blockEnd {
                let x0 = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                a0 += x0 * x0
                i += width
            }
            for lane in 0..<width { total += Double(a0[lane]) + Double(a1[lane]) }
        }
        while i < count {
            total += Double(values[i]) * Double(values[i])
            i += 1
        }
        return total
    }

    /// Sum of squares of the gradients in `slice` that belong to trainable groups.
    ///
    /// - Parameters:
    ///   - grads: element 0 of the whole flat gradient buffer (indices are absolute).
    ///   - slice: the part this worker owns after the reduce-scatter.
    ///   - trainable: one flag per layer group; frozen groups are skipped.
    /// - Throws: `TrainingError` if `slice` or `trainable` do not fit `layout`.
    public static func sumOfSquares(grads: UnsafePointer<Float>, slice: Range<Int>,
                                    layout: OptimizerLayout, trainable: [Bool]) throws -> Double {
        try layout.checkSlice(slice, what: "gradient slice")
        try layout.checkPerGroup(trainable, field: "trainable")
        var total = 0.0
        for segment in layout.segments(overlapping: slice) where trainable[segment.group] {
            total += sumOfSquares(grads + segment.range.lowerBound, count: segment.range.count)
        }
        return total
    }

    /// The factor `min(1, maxNorm / (norm + 1e-6))` with `norm = sqrt(totalSquaredNorm)`, as
    /// `clip_grad_norm_`. If the gradients will also be multiplied by a loss-averaging factor
    /// `s`, pass the squared norm of the scaled gradients, `s * s * sum`.
    ///
    /// - Throws: `TrainingError.nonFiniteGradientNorm` for a NaN or infinite norm (PyTorch would
    ///   silently write NaNs into the parameters); `invalidHyperparameter` if `maxNorm <= 0`.
    public static func clipScale(totalSquaredNorm: Double, maxNorm: Double) throws -> Float {
        guard maxNorm > 0, maxNorm.isFinite else {
            throw TrainingError.invalidHyperparameter(name: "maxGradNorm", value: maxNorm,
                                                      reason: "must be positive and finite")
        }
        guard totalSquaredNorm.isFinite, totalSquaredNorm >= 0 else {
            throw TrainingError.nonFiniteGradientNorm(squaredNorm: totalSquaredNorm)
        }
        return Float(min(1, maxNorm / (totalSquaredNorm.squareRoot() + 1e-6)))
    }
}
