import Foundation
import OutputFiles

/// The k-mer vocabulary: token strings in id order, with the tokenizer settings that made them.
///
/// Id 0 is padding (`xxpad`), id 1 is unknown (`xxunk`): a k-mer not in the vocabulary maps to
/// `xxunk`, never to padding. The rest are k-mers, most frequent first, ties broken by the
/// k-mer's letters so that the same training data always gives the same ids.
public struct Vocabulary: Sendable, CustomStringConvertible {
    public static let paddingToken = "xxpad"
    public static let unknownToken = "xxunk"
    public static let paddingID: Int32 = 0
    public static let unknownID: Int32 = 1
    /// Tokens that are not k-mers, in id order.
    public static let specialTokens = [paddingToken, unknownToken]

    /// k-mer size the vocabulary was built with.
    public let k: Int
    /// Tokenizer stride the vocabulary was built with.
    public let stride: Int
    /// All tokens in id order (`tokens[0] == "xxpad"`, `tokens[1] == "xxunk"`).
    public let tokens: [String]
    /// The file this vocabulary was loaded from (or else first saved to), for error messages: a
    /// copy saved into a run folder does not hide the file the user gave.
    public private(set) var source: String?

    private let ids: [String: Int32]

    /// A vocabulary from k-mers in id order (specials are added in front).
    /// Throws when there are no k-mers, or a token is not a k-length ACGT k-mer or appears twice.
    public init(kmers: [String], k: Int, stride: Int) throws {
        try self.init(tokens: Vocabulary.specialTokens + kmers, k: k, stride: stride, source: nil)
    }

    init(tokens: [String], k: Int, stride: Int, source: String?) throws {
        let tokenizer = try KmerTokenizer(k: k, stride: stride)   // validates k and stride
        _ = tokenizer
        for (i, special) in Vocabulary.specialTokens.enumerated() {
            guard tokens.count > i, tokens[i] == special else {
                throw DataError(file: source, field: "tokens",
                                "token \(i) must be '\(special)', found \(tokens.count > i ? "'\(tokens[i])'" : "nothing")")
            }
        }
        guard tokens.count > Vocabulary.specialTokens.count else {
            throw DataError(file: source, field: "tokens",
                            "no k-mers, only \(Vocabulary.specialTokens.joined(separator: " and ")): every token would be xxunk")
        }
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() {
            if i >= Vocabulary.specialTokens.count {
                guard token.utf8.count == k, BaseCode.isACGT(token.utf8), token == token.uppercased() else {
                    throw DataError(file: source, field: "tokens",
                                    "token \(i) '\(token)' is not an upper-case A/C/G/T k-mer of length \(k)")
                }
            }
            guard ids.updateValue(Int32(i), forKey: token) == nil else {
                throw DataError(file: source, field: "tokens", "token \(i) '\(token)' appears twice")
            }
        }
        self.k = k
        self.stride = stride
        self.tokens = tokens
        self.ids = ids
        self.source = source
    }

    /// Builds a vocabulary from k-mer counts: most frequent first, ties in lexicographic order.
    /// - Parameters:
    ///   - minFrequency: k-mers seen fewer times are left out (they become `xxunk`).
    ///   - maxSize: the most tokens, specials included; nil for no limit.
    public static func build(counts: [String: Int], k: Int, stride: Int,
                             minFrequency: Int = 1, maxSize: Int? = nil) throws -> Vocabulary {
        guard minFrequency >= 1 else {
            throw DataError(field: "minFrequency", "minimum frequency must be >= 1, got \(minFrequency)")
        }
        if let maxSize, maxSize < specialTokens.count + 1 {
            throw DataError(field: "maxSize", "maximum size must leave room for one k-mer besides the \(specialTokens.count) special tokens, got \(maxSize)")
        }
        var kmers = counts.filter { $0.value >= minFrequency }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map(\.key)
        guard !kmers.isEmpty else {
            throw counts.isEmpty
                ? DataError(field: "k", "no k-mers to count: no sequence has \(k) A/C/G/T bases in a row")
                : DataError(field: "minFrequency", "none of the \(counts.count) k-mers is seen at least \(minFrequency) times")
        }
        if let maxSize, kmers.count > maxSize - specialTokens.count {
            kmers.removeLast(kmers.count - (maxSize - specialTokens.count))
        }
        return try Vocabulary(kmers: kmers, k: k, stride: stride)
    }

    /// Number of tokens, specials included (the model's embedding and output size).
    public var count: Int { tokens.count }

    /// The id of `token`; `unknownID` when it is not in the vocabulary.
    public func id(of token: String) -> Int32 { ids[token] ?? Vocabulary.unknownID }

    /// The token of `id`; `xxunk` for an id out of range.
    public func token(of id: Int32) -> String {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : Vocabulary.unknownToken
    }

    /// Ids of string tokens (the slow path; see `KmerEncoder` for bytes to ids).
    public func ids(of tokens: [String]) -> [Int32] { tokens.map(id(of:)) }

    /// Checks that this vocabulary fits a model or tokenizer; throws a `DataError` naming the
    /// vocabulary file and the mismatched field.
    public func validate(expectedSize: Int, k: Int, stride: Int) throws {
        guard self.k == k else {
            throw DataError(file: source, field: "k", "vocabulary was built with k=\(self.k), but k=\(k) is used")
        }
        guard self.stride == stride else {
            throw DataError(file: source, field: "stride",
                            "vocabulary was built with stride=\(self.stride), but stride=\(stride) is used")
        }
        guard count == expectedSize else {
            throw DataError(file: source, field: "tokens",
                            "vocabulary has \(count) tokens, but the model expects \(expectedSize)")
        }
    }

    public var description: String {
        "Vocabulary(k: \(k), stride: \(stride), \(count) tokens\(source.map { ", \($0)" } ?? ""))"
    }
}

// MARK: - JSON file

extension Vocabulary {
    static let formatName = "genomic-ulmfit-vocabulary"
    static let formatVersion = 1

    /// Writes `{"format", "version", "k", "stride", "tokens"}` as JSON (atomically; an
    /// `OutputError` names the path and the cause when that fails).
    public mutating func save(to path: String) throws {
        let object: [String: Any] = [
            "format": Vocabulary.formatName, "version": Vocabulary.formatVersion,
            "k": k, "stride": stride, "tokens": tokens,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try OutputFile.write(data, to: path, wanted: "the vocabulary")
        if source == nil { source = path }
    }

    /// Reads a vocabulary file; errors name the file and the field that is missing or wrong.
    public static func load(from path: String) throws -> Vocabulary {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DataError(file: path, "cannot read vocabulary file: \(error.localizedDescription)")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw DataError(file: path, "not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw DataError(file: path, "expected a JSON object at the top level")
        }
        func field<T>(_ name: String, as type: T.Type, _ what: String) throws -> T {
            guard let raw = object[name] else { throw DataError(file: path, field: name, "missing") }
            guard let value = raw as? T else { throw DataError(file: path, field: name, "expected \(what)") }
            return value
        }
        let format = try field("format", as: String.self, "a string")
        guard format == formatName else {
            throw DataError(file: path, field: "format", "expected '\(formatName)', found '\(format)'")
        }
        let version = try integer(object["version"], "version", path)
        guard version == formatVersion else {
            throw DataError(file: path, field: "version", "unsupported version \(version) (this build reads \(formatVersion))")
        }
        let k = try integer(object["k"], "k", path)
        let stride = try integer(object["stride"], "stride", path)
        let tokens = try field("tokens", as: [String].self, "an array of strings")
        do {
            _ = try KmerTokenizer(k: k, stride: stride)
        } catch let error as DataError {
            throw DataError(file: path, field: error.field, error.message)
        }
        return try Vocabulary(tokens: tokens, k: k, stride: stride, source: path)
    }

    private static func integer(_ raw: Any?, _ name: String, _ path: String) throws -> Int {
        guard let raw else { throw DataError(file: path, field: name, "missing") }
        if let value = raw as? Int { return value }
        if let value = raw as? Double, let exact = Int(exactly: value) { return exact }
        throw DataError(file: path, field: name, "expected an integer")
    }
}

extension Vocabulary: Equatable {
    /// Same settings and tokens (where it was loaded from does not matter).
    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.k == b.k && a.stride == b.stride && a.tokens == b.tokens
    }
}
