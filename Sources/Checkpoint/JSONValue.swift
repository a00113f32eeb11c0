import Foundation

/// Any JSON value, kept as parsed: the parts of a manifest that other modules define (the
/// resolved run config, the model's shape, data cursors) travel through the checkpoint
/// unchanged and are compared field by field.
///
/// Integers stay integers (`int`, or `uint` above `Int64.max`, e.g. a 64-bit seed) so that
/// they round-trip exactly; other numbers are `double`.
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int64.self) { self = .int(v) }
        else if let v = try? c.decode(UInt64.self) { self = .uint(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([JSONValue].self) { self = .array(v) }
        else if let v = try? c.decode([String: JSONValue].self) { self = .object(v) }
        else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(v): try c.encode(v)
        case let .int(v): try c.encode(v)
        case let .uint(v): try c.encode(v)
        case let .double(v): try c.encode(v)
        case let .string(v): try c.encode(v)
        case let .array(v): try c.encode(v)
        case let .object(v): try c.encode(v)
        }
    }

    /// The JSON form of any `Encodable` value (e.g. a config struct).
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// Decodes this value as `T`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(self))
    }

    /// Member `key` of an object, nil otherwise.
    public subscript(key: String) -> JSONValue? {
        if case let .object(members) = self { return members[key] }
        return nil
    }

    /// The integer value of `int` or of a small `uint`, nil otherwise.
    public var intValue: Int? {
        switch self {
        case let .int(v): return Int(exactly: v)
        case let .uint(v): return Int(exactly: v)
        default: return nil
        }
    }

    public var stringValue: String? {
        if case let .string(v) = self { return v }
        return nil
    }

    /// The dotted path of the first place where `self` and `other` differ (`training.lr`,
    /// `data.fasta[1]`), nil when they are equal. `prefix` is prepended to the path.
    public func firstDifference(from other: JSONValue, prefix: String = "") -> String? {
        switch (self, other) {
        case let (.object(a), .object(b)):
            for key in Set(a.keys).union(b.keys).sorted() {
                let path = prefix.isEmpty ? key : "\(prefix).\(key)"
                guard let x = a[key], let y = b[key] else { return path }
                if let d = x.firstDifference(from: y, prefix: path) { return d }
            }
            return nil
        case let (.array(a), .array(b)):
            for i in 0 ..< max(a.count, b.count) {
                let path = "\(prefix)[\(i)]"
                guard i < a.count, i < b.count else { return path }
                if let d = a[i].firstDifference(from: b[i], prefix: path) { return d }
            }
            return nil
        default:
            return self == other ? nil : (prefix.isEmpty ? "(the whole value)" : prefix)
        }
    }

    /// Compact one-line JSON text (keys sorted), for messages.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "?"
    }
}
