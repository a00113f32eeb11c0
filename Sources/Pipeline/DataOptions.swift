import GenomicData

/// Settings of a run's data that belong to no trainer: tokenization, the genome validation
/// split, the prepared split's seed. (The defaults here are the `data:` defaults of every command.)
public struct DataOptions: Sendable, Equatable {
    /// k-mer size (Genomic ULMFiT's human model: 5).
    public var k = 5
    /// Bases between k-mer starts.
    public var stride = 2
    /// Fraction of genome chunks held out for the language model's validation.
    public var validFraction = 0.1
    /// Read at most this many bases of the FASTA inputs (nil: all).
    public var maxBases: Int?
    /// Seed of the train/valid/test split `ulmfit run` prepares.
    public var splitSeed: UInt64 = 42
    /// With a prepared dataset: the splits the language model trains on (`train+valid`: both,
    /// `validFraction` of them held out for validation).
    public var lmSplits: LanguageModelCorpus.Splits = .train

    public init() {}
}
