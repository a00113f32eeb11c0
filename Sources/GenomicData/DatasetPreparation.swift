import SeededRandom

/// Turns raw labelled sequences into a reproducible train/valid/test split, as the reference
/// genomic ULMFiT pipeline does.
///
/// Steps: upper-case; keep only pure-ACGT sequences; drop duplicates within each class (first
/// occurrence kept); per class, shuffle with `CounterRandom(seed, datasetSplit, label)` and cut
/// by `SplitSizes(classSize:)`. Every dropped sequence is counted in `report`.
///
/// A CSV whose split column names each row's split (a published split) keeps it: duplicates are
/// then dropped within a class and split only; if no row says `valid`, the valid split is drawn
/// from each class's train rows (10%, as the reference's 90/10 cut of train+valid).
///
/// ```swift
/// var prep = DatasetPreparation()
/// try prep.addFasta(path: "prom.fa.gz", label: 1)
/// try prep.addFasta(path: "nonprom.fa.gz", label: 0)
/// let (dataset, warnings) = try prep.prepare(seed: 42)
/// try dataset.write(to: "out/dataset.csv")
/// ```
public struct DatasetPreparation: Sendable {
    /// Kept sequences of each class whose split is drawn with the seed, in input order.
    public private(set) var sequencesByLabel: [Int32: [[UInt8]]] = [:]
    /// Kept sequences whose split an input named (a CSV split column), in input order.
    public private(set) var givenSplits: [DatasetSplit: LabeledSequences] = [:]
    /// Sequences dropped for a non-ACGT character, by class.
    public private(set) var skippedNonACGT: [Int32: Int] = [:]
    /// Sequences dropped as duplicates of an earlier one of the same class, by class.
    public private(set) var skippedDuplicates: [Int32: Int] = [:]
    /// One line per input file describing what was read and skipped.
    public private(set) var report: [String] = []
    /// The files read, in order.
    public private(set) var inputs: [String] = []

    /// Duplicates are dropped within a class, and within a split when the input names it.
    private struct Group: Hashable {
        let label: Int32
        let split: DatasetSplit?
    }
    private var seen: [Group: Set<[UInt8]>] = [:]

    public init() {}

    /// Adds one sequence (any case); returns whether it was kept.
    /// - Parameter split: the split the input names for it; nil: drawn with the seed.
    @discardableResult
    public mutating func add(_ sequence: [UInt8], label: Int32, split: DatasetSplit? = nil) -> Bool {
        let upper = sequence.map(BaseCode.uppercased)
        guard !upper.isEmpty, BaseCode.isACGT(upper) else {
            skippedNonACGT[label, default: 0] += 1
            return false
        }
        guard seen[Group(label: label, split: split), default: []].insert(upper).inserted else {
            skippedDuplicates[label, default: 0] += 1
            return false
        }
        if let split {
            givenSplits[split, default: LabeledSequences()].append(upper, label: label)
        } else {
            sequencesByLabel[label, default: []].append(upper)
        }
        return true
    }

    /// Adds every record of a FASTA file (plain or `.gz`) with one label. Throws a `DataError`
    /// when the file is unreadable or holds no usable record (e.g. headers only).
    public mutating func addFasta(path: String, label: Int32) throws {
        inputs.append(path)
        let before = (kept: sequencesByLabel[label]?.count ?? 0, dups: skippedDuplicates[label] ?? 0)
        let summary = try FastaReader(path: path, policy: .skipNonACGTRecords).forEachRecord { record in
            add(record.sequence, label: label)
        }
        skippedNonACGT[label, default: 0] += summary.skippedNonACGT
        let kept = (sequencesByLabel[label]?.count ?? 0) - before.kept
        let dups = (skippedDuplicates[label] ?? 0) - before.dups
        guard kept + dups > 0 else {
            throw DataError(file: path, "no usable sequence: \(summary.records) records, \(summary.skippedEmpty) "
                            + "without bases, \(summary.skippedNonACGT) with characters other than A/C/G/T")
        }
        report.append("\(summary); label \(label): \(kept) kept, \(dups) duplicates dropped")
    }

    /// Adds the rows of a labelled CSV (plain or `.gz`; header row required). By default the
    /// columns are `sequence` and `class` (or `label`); `columns` names others and an optional
    /// split column. Throws a `DataError` naming the file and line for a wrong column count, a
    /// missing or non-integer label, an empty sequence or an unknown split value.
    public mutating func addCSV(path: String, columns: CSVColumns = CSVColumns()) throws {
        inputs.append(path)
        let sequenceColumn = columns.sequence ?? "sequence", labelColumn = columns.label ?? "class"
        var names = [sequenceColumn, labelColumn]
        if let split = columns.split { names.append(split) }
        var rows = 0
        var kept: [Int32: Int] = [:], nonACGT: [Int32: Int] = [:], dups: [Int32: Int] = [:]
        var splitRows: [DatasetSplit: Int] = [:]
        var firstNonACGT: (line: Int, sequence: Substring)?   // named in the report: no row vanishes without its reason
        let header = try CSVReader(path: path).forEachRow(
            columns: names, alternatives: columns.label == nil ? ["class": ["label"]] : [:]
        ) { fields, line in
            rows += 1
            let sequence = Array(fields[0].utf8)
            guard !sequence.isEmpty else {
                throw DataError(file: path, line: line, field: sequenceColumn, "empty sequence")
            }
            let label = try Self.parseLabel(fields[1], file: path, line: line, field: labelColumn)
            var split: DatasetSplit?
            if let splitColumn = columns.split {
                guard let named = CSVColumns.split(named: fields[2]) else {
                    throw DataError(file: path, line: line, field: splitColumn,
                                    "split '\(fields[2])' is not one of train, valid (or validation, val), test")
                }
                split = named
                splitRows[named, default: 0] += 1
            }
            let dupsBefore = skippedDuplicates[label] ?? 0
            if add(sequence, label: label, split: split) {
                kept[label, default: 0] += 1
            } else if skippedDuplicates[label] ?? 0 > dupsBefore {
                dups[label, default: 0] += 1
            } else {
                nonACGT[label, default: 0] += 1
                if firstNonACGT == nil { firstNonACGT = (line, fields[0]) }
            }
        }
        guard rows > 0 else { throw DataError(file: path, "no data rows after the header") }
        let first = firstNonACGT.map { " (first: line \($0.line), \(MessageExcerpt.quoted($0.sequence)))" } ?? ""
        if kept.isEmpty {
            let skipped = nonACGT.values.reduce(0, +), duplicates = dups.values.reduce(0, +)
            throw DataError(file: path, field: sequenceColumn, "no usable row: of \(rows) rows, \(skipped) have a "
                            + "'\(sequenceColumn)' with characters other than A/C/G/T\(first) and \(duplicates) repeat an "
                            + "earlier sequence; is '\(sequenceColumn)' the column of the DNA sequences?")
        }
        func byLabel(_ counts: [Int32: Int]) -> String {
            counts.isEmpty ? "0" : counts.sorted { $0.key > $1.key }.map { "\($0.value) (label \($0.key))" }.joined(separator: ", ")
        }
        var line = "\(path): \(rows) rows; kept \(byLabel(kept)); skipped non-ACGT \(byLabel(nonACGT)), duplicates \(byLabel(dups))"
        if let splitColumn = columns.split {
            line += "; column '\(splitColumn)': "
                + DatasetSplit.allCases.map { "\($0.rawValue) \(splitRows[$0] ?? 0)" }.joined(separator: ", ") + " rows"
        } else if header.contains("split") {
            line += "; column 'split' not used: the splits are drawn with the seed (--split-column split keeps them)"
        }
        if let firstNonACGT {   // its own line, before the file's counts: which row was dropped as non-ACGT
            report.append("\(path):\(firstNonACGT.line): the first row skipped as non-ACGT: \(MessageExcerpt.quoted(firstNonACGT.sequence))")
        }
        report.append(line)
    }

    /// A class label: a non-negative integer.
    static func parseLabel(_ text: Substring, file: String?, line: Int, field: String) throws -> Int32 {
        guard !text.isEmpty else { throw DataError(file: file, line: line, field: field, "missing label") }
        guard let label = Int32(text), label >= 0 else {
            throw DataError(file: file, line: line, field: field, "label '\(text)' is not a non-negative integer")
        }
        return label
    }

    /// The split: each class shuffled with `CounterRandom(seed: seed, datasetSplit, label)` and
    /// cut into train, valid and test (within a split, classes in ascending label order); rows
    /// with a given split keep it (see the type's notes).
    public func split(seed: UInt64) -> PreparedDataset {
        var dataset = PreparedDataset(splits: givenSplits)
        if !givenSplits.isEmpty, givenSplits[.valid] == nil {
            (dataset.splits[.train], dataset.splits[.valid]) = Self.drawValid(from: dataset[.train], seed: seed)
        }
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

    /// The split, checked: throws a `DataError` naming the inputs when inputs with and without a
    /// split column are mixed, or when the result cannot train a classifier
    /// (`PreparedDataset.checkTrainable`: an empty split, one class, a label missing from train).
    /// - Returns: the dataset and warnings (a class missing from a split, sequences shared
    ///   between given splits, a valid split drawn from train).
    public func prepare(seed: UInt64) throws -> (dataset: PreparedDataset, warnings: [String]) {
        let source = inputs.joined(separator: ", ")
        if !givenSplits.isEmpty, !sequencesByLabel.isEmpty {
            throw DataError(file: source, "some inputs name each row's split and others do not: give a split "
                            + "column for every input, or for none")
        }
        let dataset = split(seed: seed)
        var warnings = try dataset.checkTrainable(file: source)
        if !givenSplits.isEmpty {
            if givenSplits[.valid] == nil {
                warnings.append("no row's split is valid: the valid split is 10% of each class's train rows, drawn with seed \(seed)")
            }
            let train = Set(dataset[.train].sequences)
            for split in [DatasetSplit.valid, .test] {
                let shared = dataset[split].sequences.filter(train.contains).count
                if shared > 0 {
                    warnings.append("\(shared) \(split.rawValue) sequences also appear in train (kept: the split column says so)")
                }
            }
        }
        return (dataset, warnings)
    }

    /// Moves 10% of each class of `train` (the reference's 90/10 cut of train+valid) to valid,
    /// drawn with `CounterRandom(seed, datasetSplit, "VA", label)`; both keep the file order.
    private static func drawValid(from train: LabeledSequences, seed: UInt64) -> (LabeledSequences, LabeledSequences) {
        var toValid = Set<Int>()
        for (label, rows) in Dictionary(grouping: train.labels.indices, by: { train.labels[$0] }) {
            var random = CounterRandom(seed: seed, RandomPurpose.datasetSplit.rawValue, 0x5641, UInt64(label))
            let order = SeededShuffle.permutation(count: rows.count, random: &random)
            let sizes = SplitSizes(trainAndValid: rows.count)
            for i in order[sizes.train...] { toValid.insert(rows[i]) }
        }
        var kept = LabeledSequences(), valid = LabeledSequences()
        for (row, (sequence, label)) in zip(train.sequences, train.labels).enumerated() {
            if toValid.contains(row) { valid.append(sequence, label: label) } else { kept.append(sequence, label: label) }
        }
        return (kept, valid)
    }

    /// What was read and skipped (one line per input) and each class's share of `dataset`.
    public func summary(of dataset: PreparedDataset) -> String {
        var lines = report
        let labels = Set(DatasetSplit.allCases.flatMap { dataset[$0].labels })
        for label in labels.sorted(by: >) {
            let sizes = DatasetSplit.allCases.map { "\($0.rawValue) \(dataset[$0].countsByLabel[label] ?? 0)" }
            let total = DatasetSplit.allCases.reduce(0) { $0 + (dataset[$1].countsByLabel[label] ?? 0) }
            lines.append("label \(label): \(total) sequences (\(sizes.joined(separator: ", "))); "
                         + "skipped \(skippedNonACGT[label] ?? 0) non-ACGT, \(skippedDuplicates[label] ?? 0) duplicates")
        }
        return lines.joined(separator: "\n")
    }
}
