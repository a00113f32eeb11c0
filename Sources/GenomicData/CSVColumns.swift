/// Which columns of a labelled CSV hold what, so that files from other tools are read as they
/// are (a pandas index column, a `promoter_presence` label, a published split).
public struct CSVColumns: Equatable, Sendable {
    /// The sequence column; nil: `sequence`.
    public var sequence: String?
    /// The label column (non-negative integers); nil: `class`, or else `label`.
    public var label: String?
    /// A column of `train`, `valid` (or `validation`, `val`) and `test` that fixes each row's
    /// split; nil: the splits are drawn with the seed.
    public var split: String?

    public init(sequence: String? = nil, label: String? = nil, split: String? = nil) {
        self.sequence = sequence
        self.label = label
        self.split = split
    }

    /// The split named by a split column's value (any case), or nil.
    static func split(named value: Substring) -> DatasetSplit? {
        switch value.lowercased() {
        case "train": .train
        case "valid", "validation", "val": .valid
        case "test": .test
        default: nil
        }
    }
}
