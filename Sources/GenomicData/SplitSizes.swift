/// How many sequences of one class go to train, validation and test.
///
/// The reference study's rule: 85% train+validation and 15% test, then 90% / 10% of the first
/// part, rounded down in that order: `train = Int(n * 0.85 * 0.9)`, `valid = Int(n * 0.85) -
/// train`, `test = n - train - valid`. For its 19,787 promoters and 27,038 non-promoters this
/// gives 35,821 / 3,979 / 7,025.
public struct SplitSizes: Equatable, Sendable, CustomStringConvertible {
    public var train: Int
    public var valid: Int
    public var test: Int

    public init(train: Int, valid: Int, test: Int) {
        self.train = train
        self.valid = valid
        self.test = test
    }

    /// The sizes for a class of `count` sequences.
    public init(classSize count: Int) {
        let trainAndValid = Int(Double(count) * 0.85)
        train = Int(Double(count) * 0.85 * 0.9)
        valid = trainAndValid - train
        test = count - trainAndValid
    }

    /// The reference's 90/10 cut of `count` train+valid sequences (no test): `train =
    /// Int(count * 0.9)`, the rest valid. For a published split that gives train and test only.
    public init(trainAndValid count: Int) {
        train = Int(Double(count) * 0.9)
        valid = count - train
        test = 0
    }

    public var total: Int { train + valid + test }

    public static func + (a: SplitSizes, b: SplitSizes) -> SplitSizes {
        SplitSizes(train: a.train + b.train, valid: a.valid + b.valid, test: a.test + b.test)
    }

    /// The size of one split.
    public subscript(split: DatasetSplit) -> Int {
        switch split {
        case .train: train
        case .valid: valid
        case .test: test
        }
    }

    public var description: String { "train \(train), valid \(valid), test \(test)" }
}
