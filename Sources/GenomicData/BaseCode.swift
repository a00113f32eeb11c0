/// The 2-bit code of a nucleotide byte: A=0, C=1, G=2, T=3 (either case); 255 for anything else.
///
/// One 256-entry table serves upper-casing, ACGT validation and k-mer packing in the hot loops.
enum BaseCode {
    static let invalid: UInt8 = 255

    /// `table[byte]` is the code of `byte`.
    static let table: [UInt8] = {
        var t = [UInt8](repeating: invalid, count: 256)
        for (code, letters) in ["Aa", "Cc", "Gg", "Tt"].enumerated() {
            for byte in letters.utf8 { t[Int(byte)] = UInt8(code) }
        }
        return t
    }()

    /// Upper-case letters by code.
    static let letters: [UInt8] = Array("ACGT".utf8)

    /// ASCII upper-casing of one byte (non-letters unchanged).
    @inline(__always)
    static func uppercased(_ byte: UInt8) -> UInt8 {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) ? byte - 32 : byte
    }

    /// True when every byte is A, C, G or T in either case.
    static func isACGT<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        table.withUnsafeBufferPointer { t in bytes.allSatisfy { t[Int($0)] != invalid } }
    }
}
