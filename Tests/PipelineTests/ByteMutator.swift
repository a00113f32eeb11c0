import SeededRandom

/// Seeded damage to the bytes of a valid file, for fuzz tests: truncation, byte flips, random
/// bytes and spliced runs. Case `n` of a seed is always the same bytes (`CounterRandom(seed, n)`),
/// so a failing case is reproduced by its number alone.
struct ByteMutator {
    enum Kind: CaseIterable { case truncate, flip, randomBytes, splice }

    /// Bytes that make parsers go deeper than uniform noise does: bases, FASTA and CSV
    /// punctuation, YAML indicators, digits, line ends, a UTF-8 lead byte.
    static let interesting = Array("ACGTNacgtn>;,\"'\n\r\t :-#[]{}0123456789.e+".utf8) + [0xC3, 0x00, 0xFF]

    let seed: UInt64

    /// Case `n` of `bytes`: which kind of damage, and the damaged bytes.
    func mutate(_ bytes: [UInt8], case n: Int) -> (kind: Kind, bytes: [UInt8]) {
        var random = CounterRandom(seed: seed, UInt64(n))
        func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(random.next() % UInt64(bound)) }
        func noise(_ count: Int) -> [UInt8] {
            let uniform = below(2) == 0
            return (0 ..< count).map { _ in
                uniform ? UInt8(truncatingIfNeeded: random.next()) : Self.interesting[below(Self.interesting.count)]
            }
        }
        let kind = Kind.allCases[n % Kind.allCases.count]
        var out = bytes
        switch kind {
        case .truncate:
            out = Array(bytes.prefix(below(bytes.count)))
        case .flip:
            for _ in 0 ... below(4) where !out.isEmpty {
                out[below(out.count)] ^= UInt8(1 + below(255))
            }
        case .randomBytes:
            out = noise(below(300))
        case .splice:
            let at = below(out.count + 1)
            if below(2) == 0 {
                out.insert(contentsOf: noise(1 + below(12)), at: at)        // insert noise
            } else {
                out.removeSubrange(at ..< min(out.count, at + 1 + below(40)))  // delete a run
            }
        }
        return (kind, out)
    }
}
