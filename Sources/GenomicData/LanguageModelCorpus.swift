import SeededRandom

/// Token documents for language-model training and validation.
///
/// Genomes: records are split at non-ACGT runs, pure segments are cut into chunks of
/// `chunkLength` bases, and each chunk goes to validation with probability `validFraction`
/// (keyed by seed and chunk number, so the split is reproducible and does not depend on reading
/// order beyond the files' own). Prepared datasets: the train split trains, the valid split
/// validates (fine-tuning the LM on the target corpus).
public struct LanguageModelCorpus: Sendable {
    public var train: [[Int32]] = []
    public var valid: [[Int32]] = []
    /// Bases read (after the `maxBases` cut).
    public var bases = 0
    /// One summary line per input.
    public var summaries: [String] = []

    public init() {}

    public var trainTokens: Int { train.reduce(0) { $0 + $1.count } }
    public var validTokens: Int { valid.reduce(0) { $0 + $1.count } }

    /// Reads FASTA genomes (plain or .gz).
    ///
    /// Throws a `DataError` for unreadable input, no sequence to train on, or a vocabulary that
    /// maps most tokens to `xxunk` (naming the vocabulary file and the rate).
    /// - Parameters:
    ///   - maxBases: stop after this many bases in total (a slice for quick runs).
    ///   - minSegment: pure-ACGT segments shorter than this are skipped (counted in the summary).
    public static func fromFasta(paths: [String], encoder: KmerEncoder, validFraction: Double,
                                 seed: UInt64, chunkLength: Int = 10_000, minSegment: Int = 100,
                                 maxBases: Int? = nil) throws -> LanguageModelCorpus {
        guard validFraction >= 0 && validFraction < 1 else {
            throw DataError(field: "validFraction", "must be in [0, 1), got \(validFraction)")
        }
        guard chunkLength >= encoder.tokenizer.k else {
            throw DataError(field: "chunkLength", "must be at least k = \(encoder.tokenizer.k), got \(chunkLength)")
        }
        var corpus = LanguageModelCorpus()
        var chunkIndex: UInt64 = 0
        for path in paths {
            if let maxBases, corpus.bases >= maxBases { break }
            let summary = try FastaReader(path: path, policy: .splitAtNonACGT(minLength: minSegment)).forEachRecord { record in
                var start = 0
                let n = min(record.sequence.count, (maxBases.map { $0 - corpus.bases }) ?? .max)
                guard n > 0 else { return }
                corpus.bases += n
                record.sequence.withUnsafeBufferPointer { seq in
                    while start < n {
                        let end = min(start + chunkLength, n)
                        var ids: [Int32] = []
                        encoder.encode(UnsafeBufferPointer(rebasing: seq[start ..< end]), appendingTo: &ids)
                        var r = CounterRandom(seed: seed, RandomPurpose.datasetSplit.rawValue, 0x4C4D, chunkIndex)
                        chunkIndex += 1
                        if !ids.isEmpty {
                            if Double(r.nextUnitFloat()) < validFraction { corpus.valid.append(ids) } else { corpus.train.append(ids) }
                        }
                        start = end
                    }
                }
            }
            corpus.summaries.append("\(summary)")
            let reachedMax = maxBases.map { corpus.bases >= $0 } ?? false
            if summary.kept == 0 && !reachedMax {   // every file given is read: one that gives nothing is a mistake
                throw DataError(file: path, "no usable sequence: \(summary.records) records, \(summary.skippedEmpty) without "
                                + "bases, \(summary.skippedShortSegments) A/C/G/T stretches shorter than \(minSegment) bases "
                                + "(headers only, or only N?)")
            }
        }
        guard corpus.trainTokens > 0 else {
            throw DataError(file: paths.first, "no ACGT sequence long enough to train on")
        }
        try corpus.checkUnknownTokens(vocabulary: encoder.vocabulary, data: paths.joined(separator: ", "))
        return corpus
    }

    /// Which splits of a prepared dataset the language model trains on.
    public enum Splits: String, CaseIterable, Codable, Sendable {
        /// The train split trains, the valid split validates.
        case train
        /// Both train (ULMFiT fine-tunes on all the task's text; labels are never read), except a
        /// held-out fraction of them, drawn with the seed, that validates.
        case trainAndValid = "train+valid"
    }

    /// A prepared dataset's sequences as documents, one per sequence (fine-tuning the LM on the
    /// target corpus); the test split is never read (it stays unseen until the classifier's final
    /// evaluation). Throws as `fromFasta` does.
    /// - Parameter validFraction, seed: with `.trainAndValid`, the held-out fraction and its draw.
    public static func fromPreparedDataset(path: String, encoder: KmerEncoder, splits: Splits = .train,
                                           validFraction: Double = 0.1, seed: UInt64 = 42) throws -> LanguageModelCorpus {
        var corpus = try fromPreparedDataset(PreparedDataset.load(path: path), source: path, encoder: encoder, splits: splits,
                                             validFraction: validFraction, seed: seed)
        try corpus.checkUnknownTokens(vocabulary: encoder.vocabulary, data: path)
        return corpus
    }

    /// `fromPreparedDataset(path:...)` for a dataset in memory (`source` names it in messages),
    /// without the unknown-token check.
    public static func fromPreparedDataset(_ dataset: PreparedDataset, source path: String, encoder: KmerEncoder,
                                           splits: Splits = .train, validFraction: Double = 0.1,
                                           seed: UInt64 = 42) throws -> LanguageModelCorpus {
        var corpus = LanguageModelCorpus()
        switch splits {
        case .trainAndValid:
            guard validFraction > 0 && validFraction < 1 else {
                throw DataError(field: "validFraction", "must be in (0, 1) to hold out validation sequences, got \(validFraction)")
            }
            let sequences = dataset[.train].sequences + dataset[.valid].sequences
            for (i, sequence) in sequences.enumerated() {
                var r = CounterRandom(seed: seed, RandomPurpose.datasetSplit.rawValue, 0x4654, UInt64(i))
                if Double(r.nextUnitFloat()) < validFraction {
                    corpus.valid.append(encoder.encode(sequence))
                } else {
                    corpus.train.append(encoder.encode(sequence))
                    corpus.bases += sequence.count
                }
            }
            corpus.summaries.append("\(path): train and valid splits (\(sequences.count) sequences), "
                                    + "\(corpus.train.count) train and \(corpus.valid.count) held out")
        case .train:
            corpus.train = dataset[.train].sequences.map(encoder.encode)
            corpus.valid = dataset[.valid].sequences.map(encoder.encode)
            corpus.bases = dataset[.train].sequences.reduce(0) { $0 + $1.count }
            corpus.summaries.append("\(path): \(dataset[.train].count) train and \(dataset[.valid].count) valid sequences")
        }
        guard corpus.trainTokens > 0 else { throw DataError(file: path, "the train split is empty") }
        return corpus
    }

    /// Throws when the vocabulary maps most tokens to `xxunk`; adds a warning line to
    /// `summaries` when it maps many (see `UnknownTokenRate`).
    private mutating func checkUnknownTokens(vocabulary: Vocabulary, data: String) throws {
        var rate = UnknownTokenRate()
        for document in train { rate.count(document) }
        for document in valid { rate.count(document) }
        if let warning = try rate.check(vocabulary: vocabulary, data: data) { summaries.append("warning: \(warning)") }
    }
}
