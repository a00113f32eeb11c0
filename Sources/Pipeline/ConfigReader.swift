import Foundation
import Yams

/// Reads typed values out of config entries. An entry is one value with its source: a node of a
/// YAML file (with its line), or a command-line option turned into the same kind of node, so both
/// go through the same checks. Every mismatch (wrong type, value out of range) becomes a
/// `RunConfigError` naming the source and the full key path.
enum ConfigReader {
    /// One setting as written: the value, where it was written, and the folder its relative
    /// paths are relative to (the config file's; nil: the working directory).
    struct Entry {
        let node: Node
        let source: SettingSource
        let base: String?

        /// A value typed on the command line (or after `--set key=`): parsed as a YAML value, so
        /// `[a, b]` is a list and `-1` a number, exactly as in a file; `literal` keeps the text as
        /// one string (paths, which may hold `: ` or `#`).
        static func flag(_ text: String, source: SettingSource, literal: Bool = false) -> Entry {
            let node = literal ? nil : (try? Yams.compose(yaml: text)) ?? nil
            return Entry(node: node ?? .scalar(.init(text, .implicit, literal ? .doubleQuoted : .plain)), source: source, base: nil)
        }

        /// Several values of a repeated option (`--fasta a --fasta b`).
        static func flag(_ texts: [String], source: SettingSource) -> Entry {
            Entry(node: .sequence(.init(texts.map { .scalar(.init($0, .implicit, .doubleQuoted)) })), source: source, base: nil)
        }
    }

    /// What a setting accepts, in words (for the message) and as a check.
    struct Rule<T> {
        let expected: String
        let accepts: (T) -> Bool
    }

    /// A number written as a plain (unquoted) scalar; `T(string)` parses it, `rule` bounds it.
    static func number<T: LosslessStringConvertible>(_ e: Entry, _ key: String, _ rule: Rule<T>) throws -> T {
        guard case .scalar(let scalar) = e.node, scalar.style == .plain,
              let value = T(scalar.string), rule.accepts(value) else {
            throw error(e, key, "expected \(rule.expected), got \(describe(e.node))")
        }
        return value
    }

    /// `true` or `false` (YAML 1.1 spellings such as `yes`/`no` too).
    static func bool(_ e: Entry, _ key: String) throws -> Bool {
        guard case .scalar(let scalar) = e.node, scalar.style == .plain, let value = Bool.construct(from: scalar) else {
            throw error(e, key, "expected true or false, got \(describe(e.node))")
        }
        return value
    }

    /// A non-empty string (quoted or not).
    static func string(_ e: Entry, _ key: String, expected: String) throws -> String {
        try string(e.node, e, key, expected: expected)
    }

    /// A path, resolved against the entry's folder (see `ConfigPath`).
    static func path(_ e: Entry, _ key: String, expected: String) throws -> String {
        ConfigPath.resolve(try string(e, key, expected: expected), against: e.base)
    }

    /// One path or a list of paths, each resolved against the entry's folder.
    static func paths(_ e: Entry, _ key: String, expected: String) throws -> [String] {
        guard case .sequence(let items) = e.node else { return [try path(e, key, expected: expected)] }
        guard !items.isEmpty else { throw error(e, key, "expected a list of \(expected)s, got an empty list") }
        return try items.map { ConfigPath.resolve(try string($0, e, key, expected: expected), against: e.base) }
    }

    /// One of the cases of a string enum, by raw value.
    static func choice<E: RawRepresentable & CaseIterable>(_ e: Entry, _ key: String) throws -> E
    where E.RawValue == String {
        guard case .scalar(let scalar) = e.node, let value = E(rawValue: scalar.string) else {
            let names = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(e, key, "expected one of \(names), got \(describe(e.node))")
        }
        return value
    }

    /// An error about the value of `key` in `e`.
    static func error(_ e: Entry, _ key: String, _ message: String) -> RunConfigError {
        RunConfigError(source: e.source, key: key, message)
    }

    private static func string(_ node: Node, _ e: Entry, _ key: String, expected: String) throws -> String {
        guard case .scalar(let scalar) = node, !isNull(node), !scalar.string.isEmpty else {
            throw error(e, key, "expected \(expected), got \(describe(node))")
        }
        return scalar.string
    }

    /// `key:` with no value, `~` or `null`: YAML's way of writing nothing.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return NSNull.construct(from: scalar) != nil
    }

    /// How a node reads in an error message.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if isNull(node) { return "nothing" }
            // A quoted scalar is text in YAML even when it spells a number or a boolean: say so,
            // or `k: "3"` would read "expected a positive integer, got '3'".
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted {
                return "the quoted text '\(scalar.string)' (numbers and true/false are written without quotes)"
            }
            return "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

extension ConfigReader.Rule where T == Int {
    static let positive = Self(expected: "a positive integer") { $0 >= 1 }
    static let nonNegative = Self(expected: "a non-negative integer") { $0 >= 0 }
}

extension ConfigReader.Rule where T == UInt64 {
    static let nonNegative = Self(expected: "a non-negative integer") { _ in true }
}

extension ConfigReader.Rule where T: BinaryFloatingPoint {
    static var positive: Self { Self(expected: "a number > 0") { $0.isFinite && $0 > 0 } }
    static var nonNegative: Self { Self(expected: "a number >= 0") { $0.isFinite && $0 >= 0 } }
    static var unitClosed: Self { Self(expected: "a number in [0, 1]") { $0 >= 0 && $0 <= 1 } }
    static var unitHalfOpen: Self { Self(expected: "a number in [0, 1)") { $0 >= 0 && $0 < 1 } }
}
