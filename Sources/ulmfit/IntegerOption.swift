import ArgumentParser
import Foundation

/// How every whole-number option outside the config schema is read (`tokenize --k`, `vocab
/// --min-frequency`, `predict --batch`, `scan --step`, `export --sample`, ...), so that they go
/// through the same checks as the schema's keys:
/// - declared with `parsing: .unconditional`, so that `-1` is read as a number, not taken for an
///   option name (argument-parser's default answers "Missing value for '--k <k>'");
/// - parsed without overflow (`Int(text)`: a value past Int.max is refused, never wrapped);
/// - checked against its range, with the value in the message.
///
/// Use: `@Option(parsing: .unconditional, help: ..., transform: IntegerOption.positive) var k: Int`.
enum IntegerOption {
    /// A value outside the option's range, or not a whole number.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    // Closures declared @Sendable: argument-parser's `transform:` takes `@Sendable (String) throws -> T`.

    /// A whole number >= 1.
    static let positive: @Sendable (String) throws -> Int = { try parse($0, atLeast: 1, "must be positive") }

    /// A whole number >= 0.
    static let nonNegative: @Sendable (String) throws -> Int = { try parse($0, atLeast: 0, "must be 0 or more") }

    /// A whole number in `range`.
    static func within(_ range: ClosedRange<Int>) -> @Sendable (String) throws -> Int {
        { text in
            let value = try parse(text, atLeast: .min, "")
            guard range.contains(value) else {
                throw Invalid(description: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
            return value
        }
    }

    private static func parse(_ text: String, atLeast minimum: Int, _ rule: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let value = Int(trimmed) else {
            let digits = trimmed.drop { $0 == "-" || $0 == "+" }
            if !digits.isEmpty, digits.allSatisfy(\.isNumber) {
                throw Invalid(description: "\(trimmed) is out of range (at most \(Int.max))")
            }
            throw Invalid(description: "expected a whole number, got '\(text)'")
        }
        guard value >= minimum else { throw Invalid(description: "\(rule), got \(value)") }
        return value
    }
}
