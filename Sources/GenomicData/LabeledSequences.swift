/// Sequences with their class labels (parallel arrays, same order).
public struct LabeledSequences: Equatable, Sendable {
    /// Upper-case A/C/G/T bytes.
    public var sequences: [[UInt8]] = []
    public var labels: [Int32] = []

    public init(sequences: [[UInt8]] = [], labels: [Int32] = []) {
        precondition(sequences.count == labels.count, "one label per sequence")
        self.sequences = sequences
        self.labels = labels
    }

    public var count: Int { sequences.count }

    public mutating func append(_ sequence: [UInt8], label: Int32) {
        sequences.append(sequence)
        labels.append(label)
    }

    /// How many sequences carry each label.
    public var countsByLabel: [Int32: Int] {
        labels.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }
}
