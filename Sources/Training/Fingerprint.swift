/// A 64-bit FNV-1a hash over 64-bit words: enough to tell whether two processes hold the same
/// settings and weights (not a cryptographic digest; a collision would need identical-looking
/// inputs by accident, 2^-64). Written here because it is ten lines and needs no dependency.
struct Fingerprint {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ word: UInt64) {
        value = (value ^ word) &* 0x0000_0100_0000_01b3
    }

    /// Adds `count` floats by their bit patterns, two per word.
    mutating func add(_ floats: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 1 < count {
            add(UInt64(floats[i].bitPattern) | UInt64(floats[i + 1].bitPattern) << 32)
            i += 2
        }
        if i < count { add(UInt64(floats[i].bitPattern)) }
    }
}
