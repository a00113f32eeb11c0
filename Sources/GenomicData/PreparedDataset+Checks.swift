extension PreparedDataset {
    /// Checks that this dataset can train and evaluate a classifier, and says what was found
    /// when it cannot: a degenerate dataset trains to perfect-looking numbers that mean nothing.
    ///
    /// Errors (a `DataError` naming `file`):
    /// - a split (train, valid or test) is empty;
    /// - the train split holds fewer than two classes;
    /// - a label is missing from the train split (a stray label that appears only in valid or
    ///   test, or a gap in the numbering: labels must be 0..<classes).
    ///
    /// - Returns: warnings, one line each: a class missing from the valid or test split.
    @discardableResult
    public func checkTrainable(file: String?) throws -> [String] {
        let counts = Dictionary(uniqueKeysWithValues: DatasetSplit.allCases.map { ($0, self[$0].countsByLabel) })
        if let empty = DatasetSplit.allCases.first(where: { self[$0].count == 0 }) {
            throw DataError(file: file, "the \(empty.rawValue) split is empty (\(description)): too few sequences "
                            + "for a classifier, which needs train, valid and test sequences")
        }
        let trainLabels = counts[.train]!.keys.sorted()
        guard trainLabels.count >= 2 else {
            throw DataError(file: file, "the train split holds only label \(trainLabels[0]) (\(self[.train].count) "
                            + "sequences): a classifier needs at least two classes (was one input empty?)")
        }
        let allLabels = Set(counts.values.flatMap(\.keys))
        for label in 0 ... allLabels.max()! where counts[.train]![label] == nil {
            let elsewhere = DatasetSplit.allCases.compactMap { split in
                counts[split]![label].map { "\($0) in \(split.rawValue)" }
            }
            if elsewhere.isEmpty {
                throw DataError(file: file, "labels are \(allLabels.sorted().map(String.init).joined(separator: ", ")) "
                                + "but label \(label) has no sequences: labels must be numbered 0..<classes without gaps")
            }
            throw DataError(file: file, "label \(label) has no train sequences (\(elsewhere.joined(separator: ", "))): "
                            + "the model could never learn it (a stray label?)")
        }
        var warnings: [String] = []
        for split in [DatasetSplit.valid, .test] {
            for label in trainLabels where counts[split]![label] == nil {
                warnings.append("label \(label) has no sequences in the \(split.rawValue) split "
                                + "(\(counts[.train]![label]!) in train): its \(split.rawValue) metrics will be missing")
            }
        }
        return warnings
    }
}
