/// fastai's masked concat pooling of the encoder's last-layer output: for each sequence,
/// [output at its last real step, max over its real steps, mean over its real steps].
/// Padding (after `length`) never enters, so results do not depend on how a batch is padded.
enum ConcatPooling {
    /// output: [L*b, E] time-major; features: [b, 3E]; argmax: [b, E] (step of each max).
    static func forward(output: UnsafePointer<Float>, lengths: UnsafePointer<Int32>, streams b: Int,
                        width E: Int, features: UnsafeMutablePointer<Float>,
                        argmax: UnsafeMutablePointer<Int32>) {
        for j in 0 ..< b {
            let len = Int(lengths[j])
            let f = features + j * 3 * E
            let last = output + ((len - 1) * b + j) * E
            for e in 0 ..< E {
                f[e] = last[e]
                f[E + e] = -.infinity
                f[2 * E + e] = 0
            }
            for t in 0 ..< len {
                let row = output + (t * b + j) * E
                for e in 0 ..< E {
                    if row[e] > f[E + e] { f[E + e] = row[e]; argmax[j * E + e] = Int32(t) }
                    f[2 * E + e] += row[e]
                }
            }
            let inv = 1 / Float(len)
            for e in 0 ..< E { f[2 * E + e] *= inv }
        }
    }

    /// dOutput: [L*b, E] (overwritten, zero beyond each length).
    static func backward(dFeatures: UnsafePointer<Float>, lengths: UnsafePointer<Int32>,
                         argmax: UnsafePointer<Int32>, steps L: Int, streams b: Int, width E: Int,
                         dOutput: UnsafeMutablePointer<Float>) {
        dOutput.update(repeating: 0, count: L * b * E)
        for j in 0 ..< b {
            let len = Int(lengths[j])
            let df = dFeatures + j * 3 * E
            let inv = 1 / Float(len)
            for t in 0 ..< len {
                let row = dOutput + (t * b + j) * E
                for e in 0 ..< E { row[e] += df[2 * E + e] * inv }
            }
            let last = dOutput + ((len - 1) * b + j) * E
            for e in 0 ..< E {
                last[e] += df[e]
                dOutput[(Int(argmax[j * E + e]) * b + j) * E + e] += df[E + e]
            }
        }
    }
}
