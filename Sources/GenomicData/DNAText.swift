/// DNA typed by a user (e.g. a command-line argument), checked letter by letter before it is
/// tokenized: anything that is not a base is refused with its position, never cut into k-mers.
public enum DNAText {
    /// The letters accepted, in either case: the four bases and N (an unknown base, which the
    /// encoder maps to `xxunk`).
    public static let letters = "ACGTN"

    /// The upper-cased bytes of `text`.
    /// - Parameter name: what `text` is, for the message (e.g. "sequence 2").
    /// - Throws: `DataError` (field `name`) for an empty text, or naming the first character that
    ///   is not A, C, G, T or N and its 1-based position; bytes that were not valid UTF-8 (they
    ///   reach Swift as U+FFFD) are called that.
    public static func bases(_ text: String, name: String) throws -> [UInt8] {
        guard !text.isEmpty else { throw DataError(field: name, "empty sequence") }
        var bases: [UInt8] = []
        bases.reserveCapacity(text.utf8.count)
        for (i, scalar) in text.unicodeScalars.enumerated() {
            let upper = scalar.isASCII ? BaseCode.uppercased(UInt8(scalar.value)) : 0
            guard letters.utf8.contains(upper) else {
                if scalar == "\u{FFFD}" {
                    throw DataError(field: name, "position \(i + 1) holds bytes that are not valid UTF-8, not a DNA base (A, C, G, T or N)")
                }
                let shown = scalar.isASCII && scalar.value >= 32 && scalar.value < 127
                    ? "'\(scalar)'" : "U+\(String(scalar.value, radix: 16, uppercase: true))"
                throw DataError(field: name, "character \(shown) at position \(i + 1) is not a DNA base (A, C, G, T or N)")
            }
            bases.append(upper)
        }
        return bases
    }
}
