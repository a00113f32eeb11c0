/// The three parts of a classification dataset.
public enum DatasetSplit: String, CaseIterable, Sendable {
    case train, valid, test
}
