import Foundation
import Yams

/// Reads typed values out of a composed YAML tree. Every mismatch (unknown key, wrong type,
/// value out of range) becomes a `RunConfigError` naming the file, the line and the full key path.
struct ConfigReader {
    let file: String

    /// The checked entries of one YAML mapping.
    struct Section {
        /// Dotted path of the mapping itself ("" for the document root).
        let path: String
        fileprivate var entries: [String: Node] = [:]

        /// The value stored under `name`, with its full key path.
        subscript(name: String) -> (path: String, node: Node)? {
            entries[name].map { (ConfigReader.join(path, name), $0) }
        }
    }

    /// What a setting accepts, in words (for the message) and as a check.
    struct Rule<T> {
        let expected: String
        let accepts: (T) -> Bool
    }

    /// Checks that `node` is a mapping whose keys are all in `known` (an absent or empty section is
    /// an empty mapping).
    func section(_ node: Node?, path: String, known: [String]) throws -> Section {
        var section = Section(path: path)
        guard let node, !isNull(node) else { return section }
        guard case .mapping(let mapping) = node else {
            throw error(node, path, "expected a mapping with keys \(known.joined(separator: ", ")), got \(describe(node))")
        }
        for (keyNode, value) in mapping {  // Yams already rejects duplicate keys
            guard case .scalar(let key) = keyNode else {
                throw error(keyNode, path, "keys must be plain names, got \(describe(keyNode))")
            }
            let full = Self.join(path, key.string)
            guard known.contains(key.string) else {
                throw RunConfigError(file: file, line: keyNode.mark?.line, key: full,
                                     "unknown key '\(full)' (known: \(known.joined(separator: ", ")))")
            }
            section.entries[key.string] = value
        }
        return section
    }

    /// A number written as a plain (unquoted) scalar; `T(string)` parses it, `rule` bounds it.
    func number<T: LosslessStringConvertible>(_ section: Section, _ name: String, _ rule: Rule<T>) throws -> T? {
        guard let (path, node) = section[name] else { return nil }
        guard case .scalar(let scalar) = node, scalar.style == .plain,
              let value = T(scalar.string), rule.accepts(value) else {
            throw error(node, path, "expected \(rule.expected), got \(describe(node))")
        }
        return value
    }

    /// `true` or `false` (YAML 1.1 spellings such as `yes`/`no` too).
    func bool(_ section: Section, _ name: String) throws -> Bool? {
        guard let (path, node) = section[name] else { return nil }
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Bool.construct(from: scalar) else {
            throw error(node, path, "expected true or false, got \(describe(node))")
        }
        return value
    }

    /// A non-empty string (quoted or not).
    func string(_ section: Section, _ name: String, expected: String) throws -> String? {
        guard let (path, node) = section[name] else { return nil }
        return try string(node, path: path, expected: expected)
    }

    /// One string or a list of strings.
    func strings(_ section: Section, _ name: String, expected: String) throws -> [String]? {
        guard let (path, node) = section[name] else { return nil }
        guard case .sequence(let items) = node else { return [try string(node, path: path, expected: expected)] }
        guard !items.isEmpty else { throw error(node, path, "expected a list of \(expected)s, got an empty list") }
        return try items.map { try string($0, path: path, expected: expected) }
    }

    /// One of the cases of a string enum, by raw value.
    func choice<E: RawRepresentable & CaseIterable>(_ section: Section, _ name: String) throws -> E?
    where E.RawValue == String {
        guard let (path, node) = section[name] else { return nil }
        guard case .scalar(let scalar) = node, let value = E(rawValue: scalar.string) else {
            let names = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(node, path, "expected one of \(names), got \(describe(node))")
        }
        return value
    }

    /// An error at `node` about the key `path`, in the form `path: message`.
    func error(_ node: Node, _ path: String, _ message: String) -> RunConfigError {
        RunConfigError(file: file, line: node.mark?.line, key: path.isEmpty ? nil : path,
                       path.isEmpty ? message : "\(path): \(message)")
    }

    private func string(_ node: Node, path: String, expected: String) throws -> String {
        guard case .scalar(let scalar) = node, !isNull(node), !scalar.string.isEmpty else {
            throw error(node, path, "expected \(expected), got \(describe(node))")
        }
        return scalar.string
    }

    /// `key:` with no value, `~` or `null`: YAML's way of writing nothing.
    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return NSNull.construct(from: scalar) != nil
    }

    /// How a node reads in an error message.
    private func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return isNull(node) ? "nothing" : "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

extension ConfigReader.Rule where T == Int {
    static let positive = Self(expected: "a positive integer") { $0 >= 1 }
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
