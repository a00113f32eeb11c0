/// How many of a corpus's tokens a vocabulary maps to `xxunk`.
///
/// A vocabulary that does not fit the data (k-mers counted on other data, too small a maximum
/// size, only the special tokens) turns most tokens into `xxunk`; a model trained on them
/// learns nothing, yet a classifier can still report a fine accuracy from the lengths alone.
public struct UnknownTokenRate: Sendable {
    /// Above this fraction of unknown tokens `check` throws ("most tokens").
    public static let errorAbove = 0.5
    /// Above this fraction `check` returns a warning.
    public static let warnAbove = 0.05

    public private(set) var unknown = 0
    public private(set) var total = 0

    public init() {}

    /// Counts the tokens of one encoded sequence.
    public mutating func count(_ ids: [Int32]) {
        total += ids.count
        for id in ids where id == Vocabulary.unknownID { unknown += 1 }
    }

    /// The fraction of tokens that are `xxunk` (0 for no tokens).
    public var rate: Double { total == 0 ? 0 : Double(unknown) / Double(total) }

    /// Throws a `DataError` naming the vocabulary file (field `tokens`) and the rate when more than
    /// `errorAbove` of the tokens are unknown; returns a warning above `warnAbove`.
    /// - Parameter data: the data that was encoded, for the message.
    public func check(vocabulary: Vocabulary, data: String) throws -> String? {
        let said = "vocabulary \(vocabulary.source ?? "(built in memory)") (\(vocabulary.count) tokens, k=\(vocabulary.k)) "
            + "maps \(percent) of the tokens of \(data) to xxunk (\(unknown) of \(total))"
        if rate > Self.errorAbove {
            throw DataError(file: vocabulary.source ?? data, field: "tokens",
                            "\(said): it does not fit this data (k-mers counted on other data, too small a maximum size, "
                            + "or only special tokens?)")
        }
        return rate > Self.warnAbove ? said : nil
    }

    private var percent: String {
        let tenths = Int((rate * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
