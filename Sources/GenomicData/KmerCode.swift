/// 2-bit packing of k-mers (A=0, C=1, G=2, T=3, first base in the highest bits) for k <= 32.
///
/// The fast paths (`KmerEncoder`, `KmerCounter`) use the code as an index, so no `String` is
/// made per k-mer.
enum KmerCode {
    /// Largest k a `UInt64` code holds.
    static let maxK = 32
    /// Largest k for which a dense table of 4^k entries is used (16 M entries at k = 12).
    static let maxTableK = 12

    /// Calls `body(code)` for each k-mer of `bytes` (k-mer size `k`, step `stride`), in order;
    /// `code` is nil for a k-mer containing a non-ACGT byte.
    @inline(__always)
    static func forEach(in bytes: UnsafeBufferPointer<UInt8>, k: Int, stride: Int,
                        _ body: (UInt64?) -> Void) {
        precondition(k >= 1 && k <= maxK && stride >= 1)
        let mask: UInt64 = k == 32 ? ~0 : (1 << UInt64(2 * k)) - 1
        var code: UInt64 = 0
        var validRun = 0          // consecutive ACGT bases ending at i
        var nextEnd = k - 1       // index of the last base of the next k-mer
        BaseCode.table.withUnsafeBufferPointer { table in
            for i in 0..<bytes.count {
                let c = table[Int(bytes[i])]
                if c == BaseCode.invalid {
                    validRun = 0
                } else {
                    code = ((code << 2) | UInt64(c)) & mask
                    validRun += 1
                }
                if i == nextEnd {
                    body(validRun >= k ? code : nil)
                    nextEnd += stride
                }
            }
        }
    }

    /// The code of a pure-ACGT k-mer string, or nil.
    static func code(of token: String) -> UInt64? {
        guard token.utf8.count <= maxK else { return nil }
        var code: UInt64 = 0
        for byte in token.utf8 {
            let c = BaseCode.table[Int(byte)]
            if c == BaseCode.invalid || BaseCode.uppercased(byte) != byte { return nil }
            code = (code << 2) | UInt64(c)
        }
        return code
    }

    /// The k-mer string of a code.
    static func string(of code: UInt64, k: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: k)
        var c = code
        for i in stride(from: k - 1, through: 0, by: -1) {
            bytes[i] = BaseCode.letters[Int(c & 3)]
            c >>= 2
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
