import SeededRandom

/// Reproducible permutations from a `CounterRandom` stream.
///
/// Written out (Fisher-Yates with Lemire's unbiased bounded draw) rather than using the standard
/// library's `shuffle(using:)`, whose algorithm is not specified and could change between Swift
/// releases: a seed must give the same split and the same epoch order forever.
public enum SeededShuffle {
    /// A permutation of `0..<count` drawn from `random`.
    public static func permutation(count: Int, random: inout CounterRandom) -> [Int] {
        var order = Array(0..<count)
        shuffle(&order, random: &random)
        return order
    }

    /// Shuffles `items` in place.
    public static func shuffle<T>(_ items: inout [T], random: inout CounterRandom) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            let j = Int(uniform(below: UInt64(i + 1), random: &random))
            if i != j { items.swapAt(i, j) }
        }
    }

    /// Uniform in `0..<bound` (Lemire 2019: multiply-high with rejection of the biased low range).
    static func uniform(below bound: UInt64, random: inout CounterRandom) -> UInt64 {
        var product = random.next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = random.next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }
}
