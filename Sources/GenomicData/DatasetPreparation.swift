import SeededRandom

/// Turns raw labelled sequences into a reproducible train/valid/test split, as the reference
/// genomic ULMFiT pipeline does.
///
/// Steps: upper-case; keep only pure-ACGT sequences; drop duplicates within each class (first
/// occurrence kept); per class, shuffle with `CounterRandom(seed, datasetSplit, label)` and cut
/// by `SplitSizes(classSize:)`. Every dropped sequence is counted in `report`.
///
/// ```swift
/// var prep = DatasetPreparation()
/// try prep.addFasta(path: "prom.fa.gz", label: 1)
/// try prep.addFasta(path: "nonprom.fa.gz", label: 0)
/// let dataset = prep.split(seed: 42)
/// try dataset.write(to: "out/dataset.csv")
/// ```
public struct DatasetPreparation: Sendable {
    /// Kept sequences of each class, in input order.
    public private(set) var sequencesByLabel: [Int32: [[UInt8]]] = [:]
    /// Sequences dropped for a non-ACGT character, by class.
    public private(set) var skippedNonACGT: [Int32: Int] = [:]
    /// Sequences dropped as duplicates of an earlier one of the same class, by class.
    public private(set) var skippedDuplicates: [Int32: Int] = [:]
    /// One line per input file describing what was read and skipped.
    public private(set) var report: [String] = []

    private var seen: [Int32: Set<[UInt8]>] = [:]

    public init() {}

    /// Adds one sequence (any case); returns whether it was kept.
    @discardableResult
    public mutating func add(_ sequence: [UInt8], label: Int32) -> Bool {
        let upper = sequence.map(BaseCode.uppercased)
        guard !upper.isEmpty, BaseCode.isACGT(upper) else {
            skippedNonACGT[label, default: 0] += 1
            return false
        }
        guard seen[label, default: []].insert(upper).inserted else {
            skippedDuplicates[label, default: 0] += 1
            return false
        }
        sequencesByLabel[label, default: []].append(upper)
        return true
    }

    /// Adds every record of a FASTA file (plain or `.gz`) with one label.
    public mutating func addFasta(path: String, label: Int32) throws {
        let before = (kept: sequencesByLabel[label]?.count ?? 0, dups: skippedDuplicates[label] ?? 0)
        let summary = try FastaReader(path: path, policy: .skipNonACGTRecords).forEachRecord { record in
            add(record.sequence, label: label)
        }
        skippedNonACGT[label, default: 0] += summary.skippedNonACGT
        let kept = (sequencesByLabel[label]?.count ?? 0) - before.kept
        let dups = (skippedDuplicates[label] ?? 0) - before.dups
        report.append("\(summary); label \(label): \(kept) kept, \(dups) duplicates dropped")
    }

    /// Adds the rows of a `sequence,class` CSV (plain or `.gz`; header row required, `label`
    /// accepted for `class`). Throws a `DataError` naming the line for a wrong column count,
    /// a missing or non-integer label, or an empty sequence.
    public mutating func addCSV(path: String) throws {
        var rows = 0
        var kept: [Int32: Int] = [:], nonACGT: [Int32: Int] = [:], dups: [Int32: Int] = [:]
        try CSVReader(path: path).forEachRow(columns: ["sequence", "class"],
                                             alternatives: ["class": ["label"]]) { fields, line in
            rows += 1
            let sequence = Array(fields[0].utf8)
            guard !sequence.isEmpty else {
                throw DataError(file: path, line: line, field: "sequence", "empty sequence")
            }
            let label = try Self.parseLabel(fields[1], file: path, line: line, field: "class")
            let dupsBefore = skippedDuplicates[label] ?? 0
            if add(sequence, label: label) {
                kept[label, default: 0] += 1
            } else if skippedDuplicates[label] ?? 0 > dupsBefore {
                dups[label, default: 0] += 1
            } else {
                nonACGT[label, default: 0] += 1
            }
        }
        guard rows > 0 else { throw DataError(file: path, "no data rows after the header") }
        func byLabel(_ counts: [Int32: Int]) -> String {
            counts.isEmpty ? "0" : counts.sorted { $0.key > $1.key }.map { "\($0.value) (label \($0.key))" }.joined(separator: ", ")
        }
        report.append("\(path): \(rows) rows; kept \(byLabel(kept)); skipped non-ACGT \(byLabel(nonACGT)), duplicates \(byLabel(dups))")
    }

    /// A class label: a non-negative integer.
    static func parseLabel(_ text: Substring, file: String?, line: Int, field: String) throws -> Int32 {
        guard !text.isEmpty else { throw DataError(file: file, line: line, field: field, "missing label") }
        guard let label = Int32(text), label >= 0 else {
            throw DataError(file: file, line: line, field: field, "label '\(text)' is not a non-negative integer")
        }
        return label
    }

    /// Split sizes per class (see `SplitSizes(classSize:)`).
    public var splitSizesByLabel: [Int32: SplitSizes] {
        sequencesByLabel.mapValues { SplitSizes(classSize: $0.count) }
    }

    /// The split: each class shuffled with `CounterRandom(seed: seed, datasetSplit, label)` and
    /// cut into train, valid and test. Within a split, classes appear in ascending label order.
    public func split(seed: UInt64) -> PreparedDataset {
        var dataset = PreparedDataset()
        for label in sequencesByLabel.keys.sorted() {
            let sequences = sequencesByLabel[label]!
            var random = CounterRandom(seed: seed, RandomPurpose.datasetSplit.rawValue, UInt64(label))
            let order = SeededShuffle.permutation(count: sequences.count, random: &random)
            let sizes = SplitSizes(classSize: sequences.count)
            var start = 0
            for split in DatasetSplit.allCases {
                for i in order[start..<(start + sizes[split])] {
                    dataset.splits[split, default: LabeledSequences()].append(sequences[i], label: label)
                }
                start += sizes[split]
            }
        }
        return dataset
    }

    /// Per-class counts and skips, one line each.
    public var summary: String {
        var lines = report
        for label in sequencesByLabel.keys.sorted(by: >) {
            let sizes = SplitSizes(classSize: sequencesByLabel[label]!.count)
            lines.append("label \(label): \(sizes.total) sequences (\(sizes)); skipped \(skippedNonACGT[label] ?? 0) non-ACGT, \(skippedDuplicates[label] ?? 0) duplicates")
        }
        return lines.joined(separator: "\n")
    }
}
