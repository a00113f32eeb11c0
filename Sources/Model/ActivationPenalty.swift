/// fastai's AR and TAR arithmetic, written once for both models: the sum of squares and the sum of
/// squared step-to-step differences over the real rows of a time-major block, and their
/// gradients.
///
/// A block is `steps` x `streams` rows of `width` floats, row `t * streams + j` for step `t` of
/// stream `j`; stream `j` is real for its first `lengths[j]` steps (`lengths` nil: every row is
/// real). The language model (every row real) and the classifier (`SequencePenalty`, sequences of
/// their own lengths) differ only in which block they penalize and what they divide the sums by.
///
/// Sums run in Float SIMD lanes over a row (or over 512 values for differences) and add those
/// partial sums in Double, always in row order: the same numbers for any worker count.
enum ActivationPenalty {
    /// Sum of x^2 over the real rows.
    static func sumOfSquares(_ x: UnsafePointer<Float>, steps T: Int, streams b: Int, width E: Int,
                             lengths: UnsafePointer<Int32>?) -> Double {
        guard let lengths else { return squares(x, rows: T * b, width: E) }
        var total = 0.0
        for t in 0 ..< T {
            for j in 0 ..< b where t < Int(lengths[j]) { total += squares(x + (t * b + j) * E, rows: 1, width: E) }
        }
        return total
    }

    /// dx += scale * x over the real rows (the gradient of scale/2 * sum of x^2).
    static func addGradientOfSquares(_ x: UnsafePointer<Float>, scale: Float, into dx: UnsafeMutablePointer<Float>,
                                     steps T: Int, streams b: Int, width E: Int, lengths: UnsafePointer<Int32>?) {
        guard let lengths else { return axpy(scale, x, dx, count: T * b * E) }
        for t in 0 ..< T {
            for j in 0 ..< b where t < Int(lengths[j]) {
                let offset = (t * b + j) * E
                axpy(scale, x + offset, dx + offset, count: E)
            }
        }
    }

    /// Sum of (x_{t+1} - x_t)^2 over the pairs of consecutive real steps of every stream. With
    /// `dx`, also adds the gradient of scale/2 times that sum: scale * d to row t+1, -scale * d
    /// to row t.
    static func sumOfDifferences(_ x: UnsafePointer<Float>, steps T: Int, streams b: Int, width E: Int,
                                 lengths: UnsafePointer<Int32>?, scale: Float = 0,
                                 gradientInto dx: UnsafeMutablePointer<Float>? = nil) -> Double {
        var total = 0.0
        for t in 0 ..< max(T - 1, 0) {
            // Runs of neighbouring streams with real steps t and t+1 are contiguous in memory
            // (every stream when all rows are real: one run of b * E values per step).
            var j = 0
            while j < b {
                guard lengths.map({ Int($0[j]) > t + 1 }) ?? true else { j += 1; continue }
                var end = j + 1
                while end < b && (lengths.map { Int($0[end]) > t + 1 } ?? true) { end += 1 }
                let offset = (t * b + j) * E
                total += differences(x + offset, next: b * E, dx.map { $0 + offset }, count: (end - j) * E, scale: scale)
                j = end
            }
        }
        return total
    }

    /// Sum of x[i]^2 over a [rows, width] block: per row in Float SIMD lanes (a few hundred terms
    /// at most), rows added in Double, in row order.
    private static func squares(_ x: UnsafePointer<Float>, rows: Int, width: Int) -> Double {
        var total = 0.0
        for r in 0 ..< rows {
            let row = x + r * width
            var acc = SIMD8<Float>(repeating: 0)
            var i = 0
            while i + 8 <= width {
                let v = UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<Float>.self)
                acc += v * v
                i += 8
            }
            var s = acc.sum()
            while i < width { s += row[i] * row[i]; i += 1 }
            total += Double(s)
        }
        return total
    }

    /// One step's pairs: d = x[next + i] - x[i] over `count` values; with `dx`, adds scale * d to
    /// dx[next + i] and subtracts it from dx[i]. Returns the sum of d^2 (Float lanes per 8 x 64
    /// values, blocks added in Double).
    private static func differences(_ x: UnsafePointer<Float>, next: Int, _ dx: UnsafeMutablePointer<Float>?,
                                    count: Int, scale: Float) -> Double {
        typealias V = SIMD8<Float>
        let k = V(repeating: scale)
        var total = 0.0
        var i = 0
        while i + 8 <= count {
            var acc = V(repeating: 0)
            let end = min(count, i + 512) & ~7
            while i < end {
                let d = UnsafeRawPointer(x + next + i).loadUnaligned(as: V.self) - UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
                acc += d * d
                if let dx {
                    let later = UnsafeMutableRawPointer(dx + next + i), this = UnsafeMutableRawPointer(dx + i)
                    later.storeBytes(of: later.loadUnaligned(as: V.self) + k * d, as: V.self)
                    this.storeBytes(of: this.loadUnaligned(as: V.self) - k * d, as: V.self)
                }
                i += 8
            }
            total += Double(acc.sum())
        }
        while i < count {
            let d = x[next + i] - x[i]
            total += Double(d * d)
            if let dx {
                dx[next + i] += scale * d
                dx[i] -= scale * d
            }
            i += 1
        }
        return total
    }
}
