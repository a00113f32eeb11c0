/// Text from an input file as it may appear in a message: short, printable, and said to be
/// binary when it is not text, so that a wrong file (a binary, a huge line) never fills the
/// terminal with its bytes.
public enum MessageExcerpt {
    /// Whether `text` reads as text: no U+FFFD (bytes that are not UTF-8) and no control
    /// characters other than tab.
    public static func isText(_ text: Substring) -> Bool {
        !text.unicodeScalars.contains { $0 == "\u{FFFD}" || ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }
    }

    /// `text` quoted, cut to `limit` characters (with how many more there were).
    public static func quoted(_ text: Substring, limit: Int = 40) -> String {
        guard isText(text) else { return "\(text.utf8.count) bytes that are not text" }
        guard text.count > limit else { return "'\(text)'" }
        return "'\(text.prefix(limit))...' (\(text.count) characters)"
    }

    /// A list of quoted items, at most `maxItems` of them (with how many more there were).
    public static func list(_ items: [String], maxItems: Int = 12) -> String {
        let shown = items.prefix(maxItems).map { quoted(Substring($0)) }.joined(separator: ", ")
        return items.count > maxItems ? shown + " and \(items.count - maxItems) more" : shown
    }
}
