/// The denominators of the classifier's AR and TAR means, counted over the whole minibatch (all
/// workers), so each worker's partial sums add up to the minibatch's means whatever the split.
public struct SequenceNormalizer: Sendable, Equatable {
    /// Real (unpadded) time steps of every sequence: AR is a mean over `positions x E` values.
    public var positions: Int
    /// Consecutive pairs of real steps, the sum of `length - 1`: TAR is a mean over `pairs x E`.
    public var pairs: Int

    public init(lengths: [Int]) {
        positions = lengths.reduce(0, +)
        pairs = lengths.reduce(0) { $0 + max($1 - 1, 0) }
    }
}
