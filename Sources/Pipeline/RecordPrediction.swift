import Foundation
import GenomicData

/// What `ulmfit predict` does with a record it cannot classify (empty, a symbol other than
/// A/C/G/T, too short or too long): skip it, listing it with the reason, or stop with an error
/// naming it before anything is predicted.
public enum InvalidRecordPolicy: String, Sendable, CaseIterable {
    case skip, error
}

/// One classified record: a row of `ulmfit predict`'s CSV.
public struct RecordPrediction: Equatable, Sendable {
    public var id: String
    /// Bases.
    public var length: Int
    /// Per class.
    public var probabilities: [Float]
    /// The most probable class (the first on ties).
    public var predicted: Int32

    /// `id,length,p0,p1,...,predicted`.
    public static func csvHeader(classCount: Int) -> String {
        (["id", "length"] + (0 ..< classCount).map { "p\($0)" } + ["predicted"]).joined(separator: ",")
    }

    /// The CSV row (the id quoted when it holds a comma or a quote, RFC 4180).
    public var csvRow: String {
        var row = [Self.csvField(id), String(length)]
        row += probabilities.map { String(format: "%.6g", $0) }
        row.append(String(predicted))
        return row.joined(separator: ",")
    }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// A record that was not classified, and why.
    public struct Invalid: Equatable, Sendable {
        public var record: SequenceInput.Record
        public var reason: String
        /// `file:line id: reason`.
        public var description: String { "\(record.location) \(record.id): \(reason)" }
    }

    /// Classifies `records` in order. Every record is checked first (`SequenceInput.Record.problem`
    /// with at least k bases, at most `maxBases`), so `.error` stops before any prediction;
    /// `.skip` returns the invalid records with their reasons. The valid ones are encoded with
    /// `encoder` and scored by the classifier `makeClassifier(longest token count)` returns, `chunk`
    /// records at a time, each chunk's rows handed to `emit` in record order.
    /// - Throws: `DataError` naming the first invalid record's file, line and reason (`.error`).
    public static func predict(records: [SequenceInput.Record], encoder: KmerEncoder, maxBases: Int,
                               onInvalid: InvalidRecordPolicy, chunk: Int = 4096,
                               makeClassifier: (_ maxTokens: Int) throws -> SequenceClassifier,
                               emit: ([RecordPrediction]) throws -> Void) throws -> [Invalid] {
        let minBases = encoder.tokenizer.k
        var invalid: [Invalid] = [], valid: [SequenceInput.Record] = []
        for record in records {
            if let reason = record.problem(minLength: minBases, maxLength: maxBases) {
                if onInvalid == .error {
                    throw DataError(file: record.location, "record \(record.id): \(reason) "
                                    + "(--on-invalid skip lists such records and classifies the others)")
                }
                invalid.append(Invalid(record: record, reason: reason))
            } else {
                valid.append(record)
            }
        }
        guard !valid.isEmpty else { return invalid }
        let longest = valid.map { encoder.tokenizer.tokenCount(sequenceLength: $0.sequence.count) }.max()!
        let classifier = try makeClassifier(longest)
        for start in stride(from: 0, to: valid.count, by: chunk) {
            let part = valid[start ..< min(start + chunk, valid.count)]
            let probabilities = try classifier.probabilities(part.map { encoder.encode($0.sequence) })
            try emit(zip(part, probabilities).map { record, p in
                RecordPrediction(id: record.id, length: record.sequence.count, probabilities: p,
                                 predicted: ClassificationMetrics.argmax(p))
            })
        }
        return invalid
    }
}
