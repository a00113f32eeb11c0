import Parallel

/// The settings of a training run as written in a YAML file (`configs/*.yaml`), every one optional:
/// a value left out means "use the command-line flag, or else the built-in default".
///
/// ```yaml
/// data:     { fasta: [genome.fa.gz], k: 5, stride: 2 }   # or dataset: runs/human/dataset.csv
/// model:    { emb: 400, hidden: 1150, layers: 3 }
/// training: { batch: 64, bptt: 70, epochs: 1, lr: 2e-3 }
/// layout:   { workers: 16, bind: core, policy: scatter }
/// out: runs/lm
/// ```
///
/// `RunConfig.load(path:)` rejects unknown keys, wrong types and out-of-range values with a
/// `RunConfigError` naming the file, line and key path. Paths inside the file are used as written,
/// i.e. relative to the working directory, exactly like paths given on the command line.
public struct RunConfig: Equatable, Sendable {
    /// Inputs: training data, vocabulary, starting checkpoint, k-mer tokenization.
    public var data = DataSection()
    /// Model shape.
    public var model = ModelSection()
    /// Optimization and schedule.
    public var training = TrainingSection()
    /// Worker threads and their placement.
    public var layout = LayoutSection()
    /// Results directory.
    public var out: String?

    public init(data: DataSection = DataSection(), model: ModelSection = ModelSection(),
                training: TrainingSection = TrainingSection(), layout: LayoutSection = LayoutSection(),
                out: String? = nil) {
        self.data = data
        self.model = model
        self.training = training
        self.layout = layout
        self.out = out
    }

    /// `data:` — what to train on.
    public struct DataSection: Equatable, Sendable {
        /// Genome FASTA files (plain or .gz). Exclusive with `dataset`.
        public var fasta: [String]?
        /// A prepared dataset.csv (from `ulmfit prepare`). Exclusive with `fasta`.
        public var dataset: String?
        /// Vocabulary JSON to use instead of building one.
        public var vocab: String?
        /// Language-model checkpoint directory to start from (fine-tuning).
        public var initFrom: String?
        /// k-mer size.
        public var k: Int?
        /// k-mer stride.
        public var stride: Int?
        /// Read at most this many bases of the FASTA inputs.
        public var maxBases: Int?
        /// Fraction of genome chunks held out for validation, in [0, 1).
        public var validFraction: Double?

        public init(fasta: [String]? = nil, dataset: String? = nil, vocab: String? = nil, initFrom: String? = nil,
                    k: Int? = nil, stride: Int? = nil, maxBases: Int? = nil, validFraction: Double? = nil) {
            self.fasta = fasta
            self.dataset = dataset
            self.vocab = vocab
            self.initFrom = initFrom
            self.k = k
            self.stride = stride
            self.maxBases = maxBases
            self.validFraction = validFraction
        }
    }

    /// `model:` — AWD-LSTM sizes.
    public struct ModelSection: Equatable, Sendable {
        /// Embedding size E.
        public var emb: Int?
        /// Hidden size H.
        public var hidden: Int?
        /// Number of LSTM layers.
        public var layers: Int?
        /// Multiplier of every dropout probability (fastai `drop_mult`).
        public var dropMult: Float?

        public init(emb: Int? = nil, hidden: Int? = nil, layers: Int? = nil, dropMult: Float? = nil) {
            self.emb = emb
            self.hidden = hidden
            self.layers = layers
            self.dropMult = dropMult
        }
    }

    /// `training:` — minibatches, one-cycle schedule, AdamW, regularization.
    public struct TrainingSection: Equatable, Sendable {
        /// Streams per minibatch (all workers together).
        public var batch: Int?
        /// BPTT window length.
        public var bptt: Int?
        /// Epochs.
        public var epochs: Int?
        /// Stop after this many steps.
        public var maxSteps: Int?
        /// Peak learning rate.
        public var lr: Double?
        /// Fraction of steps warming up, in [0, 1].
        public var pctStart: Double?
        /// Decoupled weight decay.
        public var wd: Double?
        /// Global gradient-norm clip.
        public var clip: Double?
        /// Activation regularization (AR) coefficient.
        public var alpha: Float?
        /// Temporal activation regularization (TAR) coefficient.
        public var beta: Float?
        /// Validate every this many steps.
        public var evalEvery: Int?
        /// Random seed.
        public var seed: UInt64?
        /// Deterministic mode: cut every minibatch into this many fixed shards.
        public var deterministicShards: Int?

        public init(batch: Int? = nil, bptt: Int? = nil, epochs: Int? = nil, maxSteps: Int? = nil,
                    lr: Double? = nil, pctStart: Double? = nil, wd: Double? = nil, clip: Double? = nil,
                    alpha: Float? = nil, beta: Float? = nil, evalEvery: Int? = nil, seed: UInt64? = nil,
                    deterministicShards: Int? = nil) {
            self.batch = batch
            self.bptt = bptt
            self.epochs = epochs
            self.maxSteps = maxSteps
            self.lr = lr
            self.pctStart = pctStart
            self.wd = wd
            self.clip = clip
            self.alpha = alpha
            self.beta = beta
            self.evalEvery = evalEvery
            self.seed = seed
            self.deterministicShards = deterministicShards
        }
    }

    /// `layout:` — the fields of a `LayoutSpec`.
    public struct LayoutSection: Equatable, Sendable {
        /// Number of workers (default: one per physical core).
        public var workers: Int?
        /// Binding unit.
        public var bind: BindingUnit?
        /// Placement policy (default: compact).
        public var policy: PlacementPolicy?
        /// Explicit units in hwloc location syntax, e.g. `core:0-7`.
        public var cpus: String?
        /// Allow more workers than units (default: false).
        public var oversubscribe: Bool?

        public init(workers: Int? = nil, bind: BindingUnit? = nil, policy: PlacementPolicy? = nil,
                    cpus: String? = nil, oversubscribe: Bool? = nil) {
            self.workers = workers
            self.bind = bind
            self.policy = policy
            self.cpus = cpus
            self.oversubscribe = oversubscribe
        }

        /// This section on top of `base`: every value set here wins, the rest come from `base`.
        public func layered(over base: LayoutSection) -> LayoutSection {
            LayoutSection(workers: workers ?? base.workers, bind: bind ?? base.bind, policy: policy ?? base.policy,
                          cpus: cpus ?? base.cpus, oversubscribe: oversubscribe ?? base.oversubscribe)
        }

        /// The layout request, with the built-in defaults for what is unset.
        public var spec: LayoutSpec {
            LayoutSpec(workers: workers, unit: bind, policy: policy ?? .compact, cpus: cpus,
                       oversubscribe: oversubscribe ?? false)
        }
    }

    /// This configuration on top of `base` (typically: command-line flags over a file): every value
    /// set here wins, the rest come from `base`. The training input is one choice: if this sets
    /// `fasta` or `dataset`, neither is taken from `base`, so `--dataset` replaces a file's `fasta`.
    public func layered(over base: RunConfig) -> RunConfig {
        let ownInput = data.fasta != nil || data.dataset != nil
        let d = data, b = base.data
        let mergedData = DataSection(
            fasta: ownInput ? d.fasta : b.fasta, dataset: ownInput ? d.dataset : b.dataset,
            vocab: d.vocab ?? b.vocab, initFrom: d.initFrom ?? b.initFrom, k: d.k ?? b.k,
            stride: d.stride ?? b.stride, maxBases: d.maxBases ?? b.maxBases,
            validFraction: d.validFraction ?? b.validFraction)
        let m = model, bm = base.model
        let mergedModel = ModelSection(emb: m.emb ?? bm.emb, hidden: m.hidden ?? bm.hidden,
                                       layers: m.layers ?? bm.layers, dropMult: m.dropMult ?? bm.dropMult)
        let t = training, bt = base.training
        let mergedTraining = TrainingSection(
            batch: t.batch ?? bt.batch, bptt: t.bptt ?? bt.bptt, epochs: t.epochs ?? bt.epochs,
            maxSteps: t.maxSteps ?? bt.maxSteps, lr: t.lr ?? bt.lr, pctStart: t.pctStart ?? bt.pctStart,
            wd: t.wd ?? bt.wd, clip: t.clip ?? bt.clip, alpha: t.alpha ?? bt.alpha, beta: t.beta ?? bt.beta,
            evalEvery: t.evalEvery ?? bt.evalEvery, seed: t.seed ?? bt.seed,
            deterministicShards: t.deterministicShards ?? bt.deterministicShards)
        return RunConfig(data: mergedData, model: mergedModel, training: mergedTraining,
                         layout: layout.layered(over: base.layout), out: out ?? base.out)
    }
}
