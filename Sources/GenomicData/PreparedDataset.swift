import Foundation
import OutputFiles

/// A classification dataset split into train, valid and test: what `ulmfit prepare` writes and
/// the classifier trainer reads.
///
/// On disk it is one CSV with header `sequence,label,split`, one row per sequence.
public struct PreparedDataset: Equatable, Sendable, CustomStringConvertible {
    /// The header of the file.
    public static let header = "sequence,label,split"

    public var splits: [DatasetSplit: LabeledSequences] = [:]

    public init(splits: [DatasetSplit: LabeledSequences] = [:]) { self.splits = splits }

    /// One split (empty when absent).
    public subscript(split: DatasetSplit) -> LabeledSequences {
        splits[split] ?? LabeledSequences()
    }

    /// Sequences per split and label, e.g. `train 6910 (label 1: 3759, label 0: 3151), ...`.
    public var description: String {
        DatasetSplit.allCases.map { split in
            let counts = self[split].countsByLabel.sorted { $0.key > $1.key }
                .map { "label \($0.key): \($0.value)" }.joined(separator: ", ")
            return "\(split.rawValue) \(self[split].count)" + (counts.isEmpty ? "" : " (\(counts))")
        }.joined(separator: ", ")
    }

    /// Writes the CSV atomically: into a temporary file in the same folder, then renamed, so a
    /// file at `path` is always complete. Creates the folder if needed.
    public func write(to path: String) throws {
        var text = PreparedDataset.header + "\n"
        for split in DatasetSplit.allCases {
            let part = self[split]
            for (sequence, label) in zip(part.sequences, part.labels) {
                text += String(decoding: sequence, as: UTF8.self)
                text += ",\(label),\(split.rawValue)\n"
            }
        }
        // OutputFile: errors in words with the path (a full disk, no permission), never a raw
        // Foundation error, and the folder is created only when the file is written.
        try OutputFile.write(text, to: path, wanted: "the prepared dataset")
    }

    /// Reads a file written by `write(to:)`. Errors name the file and line: wrong column count,
    /// missing or invalid label, unknown split name, empty or non-ACGT sequence.
    public static func load(path: String) throws -> PreparedDataset {
        var dataset = PreparedDataset()
        var rows = 0
        try CSVReader(path: path).forEachRow(columns: ["sequence", "label", "split"]) { fields, line in
            rows += 1
            let sequence = Array(fields[0].utf8)
            guard !sequence.isEmpty else {
                throw DataError(file: path, line: line, field: "sequence", "empty sequence")
            }
            guard BaseCode.isACGT(sequence), sequence.allSatisfy({ BaseCode.uppercased($0) == $0 }) else {
                throw DataError(file: path, line: line, field: "sequence",
                                "sequence has characters other than upper-case A/C/G/T (was this file made by 'ulmfit prepare'?)")
            }
            let label = try DatasetPreparation.parseLabel(fields[1], file: path, line: line, field: "label")
            guard let split = DatasetSplit(rawValue: String(fields[2])) else {
                throw DataError(file: path, line: line, field: "split",
                                "split '\(fields[2])' is not one of train, valid, test")
            }
            dataset.splits[split, default: LabeledSequences()].append(sequence, label: label)
        }
        guard rows > 0 else { throw DataError(file: path, "no data rows after the header") }
        return dataset
    }
}
