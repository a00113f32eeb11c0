import GenomicData
import Parallel

/// The settings of a run: what a YAML config file (`configs/*.yaml`) holds, what command-line
/// options override, and what a run writes back, fully resolved, to `OUT/config.yaml`.
///
/// ```yaml
/// data:       { fasta: [genome.fa.gz], k: 5, stride: 2 }   # or dataset: runs/human/dataset.csv
/// model:      { emb: 400, hidden: 1150, layers: 3 }
/// training:   { batch: 64, bptt: 70, epochs: 1, lr: 2e-3 }  # the language model
/// finetune:   { lr: 1e-3 }                                  # `ulmfit run`: LM fine-tuning
/// classifier: { lr: 2e-2, epochs: 2 }
/// layout:     { workers: 16, bind: core, policy: scatter }
/// out: runs/lm
/// ```
///
/// Every value is optional here: unset means "the built-in default" (`RunConfig.defaults`, read
/// from the options types the runs take). `sources` remembers where each set value came from
/// (file and line, or option), so later checks can name it. Every key is described once, in
/// `ConfigSchema`. Paths are absolute (see `ConfigPath`).
public struct RunConfig: Sendable {
    /// Inputs: training data, vocabulary, starting checkpoints, k-mer tokenization.
    public var data = DataSection()
    /// Model shape, and the language model's dropout multiplier.
    public var model = ModelSection()
    /// Language-model training (`train-lm`; in `ulmfit run`, pretraining).
    public var training = TrainingSection()
    /// `ulmfit run` only: language-model fine-tuning; keys left out take `training`'s values.
    public var finetune = TrainingSection()
    /// Classifier training (`train-classifier`).
    public var classifier = ClassifierSection()
    /// When training runs write checkpoints and how many they keep.
    public var checkpoint = CheckpointSection()
    /// Worker threads and their placement.
    public var layout = LayoutSection()
    /// Results folder.
    public var out: String?
    /// Where each set value came from, by key path (`training.lr`); absent: not set.
    public var sources: [String: SettingSource] = [:]

    public init(data: DataSection = DataSection(), model: ModelSection = ModelSection(),
                training: TrainingSection = TrainingSection(), finetune: TrainingSection = TrainingSection(),
                classifier: ClassifierSection = ClassifierSection(), checkpoint: CheckpointSection = CheckpointSection(),
                layout: LayoutSection = LayoutSection(), out: String? = nil) {
        self.data = data
        self.model = model
        self.training = training
        self.finetune = finetune
        self.classifier = classifier
        self.checkpoint = checkpoint
        self.layout = layout
        self.out = out
    }

    /// `data:` — what to train on.
    public struct DataSection: Equatable, Sendable {
        /// Genome FASTA files (plain or .gz): the language model's pretraining corpus.
        public var fasta: [String]?
        /// A prepared dataset.csv (from `ulmfit prepare`): fine-tuning corpus and classifier data.
        public var dataset: String?
        /// `ulmfit run`: labelled CSV files to prepare into the run's dataset.
        public var csv: [String]?
        /// `ulmfit run`: FASTA files of positive sequences (label 1) to prepare.
        public var positive: [String]?
        /// `ulmfit run`: FASTA files of negative sequences (label 0) to prepare.
        public var negative: [String]?
        /// `ulmfit run`: seed of the prepared train/valid/test split.
        public var splitSeed: UInt64?
        /// Vocabulary JSON to use instead of building one.
        public var vocab: String?
        /// Language-model checkpoint directory to start from (fine-tuning).
        public var initFrom: String?
        /// Language-model checkpoint directory whose encoder starts the classifier.
        public var encoder: String?
        /// k-mer size.
        public var k: Int?
        /// k-mer stride.
        public var stride: Int?
        /// Read at most this many bases of the FASTA inputs.
        public var maxBases: Int?
        /// Fraction of genome chunks held out for validation, in [0, 1).
        public var validFraction: Double?
        /// With a prepared dataset: the splits the language model trains on.
        public var lmSplits: LanguageModelCorpus.Splits?

        public init(fasta: [String]? = nil, dataset: String? = nil, csv: [String]? = nil, positive: [String]? = nil,
                    negative: [String]? = nil, splitSeed: UInt64? = nil, vocab: String? = nil,
                    initFrom: String? = nil, encoder: String? = nil, k: Int? = nil, stride: Int? = nil,
                    maxBases: Int? = nil, validFraction: Double? = nil, lmSplits: LanguageModelCorpus.Splits? = nil) {
            self.fasta = fasta
            self.dataset = dataset
            self.csv = csv
            self.positive = positive
            self.negative = negative
            self.splitSeed = splitSeed
            self.vocab = vocab
            self.initFrom = initFrom
            self.encoder = encoder
            self.k = k
            self.stride = stride
            self.maxBases = maxBases
            self.validFraction = validFraction
            self.lmSplits = lmSplits
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
        /// Multiplier of every language-model dropout probability (fastai `drop_mult`).
        public var dropMult: Float?

        public init(emb: Int? = nil, hidden: Int? = nil, layers: Int? = nil, dropMult: Float? = nil) {
            self.emb = emb
            self.hidden = hidden
            self.layers = layers
            self.dropMult = dropMult
        }
    }

    /// `training:` (and `finetune:`) — language-model minibatches, one-cycle schedule, AdamW,
    /// regularization.
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

    /// `classifier:` — the pooling classifier's recipe, minibatches and optimizer.
    public struct ClassifierSection: Equatable, Sendable {
        /// `ulmfit` (gradual unfreezing) or `all` (every group at once).
        public var stages: ClassifierRecipe?
        /// Sequences per minibatch (all workers together).
        public var batch: Int?
        /// The encoder's backward is truncated every this many tokens.
        public var bptt: Int?
        /// Epochs of the last (all groups) stage.
        public var epochs: Int?
        /// Cap on the steps of each stage.
        public var maxSteps: Int?
        /// Peak learning rate of the head (first stage).
        public var lr: Double?
        public var pctStart: Double?
        public var wd: Double?
        public var clip: Double?
        /// Multiplier of fastai's classifier dropouts.
        public var dropMult: Float?
        /// fastai's AR and TAR coefficients on the last LSTM layer's output.
        public var alpha: Float?
        public var beta: Float?
        public var seed: UInt64?
        public var deterministicShards: Int?

        public init(stages: ClassifierRecipe? = nil, batch: Int? = nil, bptt: Int? = nil, epochs: Int? = nil,
                    maxSteps: Int? = nil, lr: Double? = nil, pctStart: Double? = nil, wd: Double? = nil,
                    clip: Double? = nil, dropMult: Float? = nil, alpha: Float? = nil, beta: Float? = nil,
                    seed: UInt64? = nil, deterministicShards: Int? = nil) {
            self.stages = stages
            self.batch = batch
            self.bptt = bptt
            self.epochs = epochs
            self.maxSteps = maxSteps
            self.lr = lr
            self.pctStart = pctStart
            self.wd = wd
            self.clip = clip
            self.dropMult = dropMult
            self.alpha = alpha
            self.beta = beta
            self.seed = seed
            self.deterministicShards = deterministicShards
        }
    }

    /// `checkpoint:` — the fields of a `CheckpointPolicy`, with 0 for "none" (keep all, not by time).
    public struct CheckpointSection: Equatable, Sendable {
        /// Checkpoints kept, the newest; 0 keeps all.
        public var keep: Int?
        /// Also write one every this many optimizer steps.
        public var every: Int?
        /// Write one when this many minutes have passed since the last; 0: not by time.
        public var minutes: Double?

        public init(keep: Int? = nil, every: Int? = nil, minutes: Double? = nil) {
            self.keep = keep
            self.every = every
            self.minutes = minutes
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

        /// The layout request, with `LayoutSpec`'s defaults for what is unset.
        public var spec: LayoutSpec {
            let defaults = LayoutSpec()
            return LayoutSpec(workers: workers, unit: bind, policy: policy ?? defaults.policy, cpus: cpus,
                              oversubscribe: oversubscribe ?? defaults.oversubscribe)
        }
    }

    /// Where the value of `key` came from (`the default` when it was not set).
    public func source(of key: String) -> SettingSource { sources[key] ?? .builtIn }

    /// An error about the value of `key`, naming where that value came from.
    public func error(_ key: String, _ message: String) -> RunConfigError {
        RunConfigError(source: source(of: key), key: key, message)
    }
}

extension RunConfig: Equatable {
    /// Equal settings; where they came from does not matter.
    public static func == (a: RunConfig, b: RunConfig) -> Bool {
        a.data == b.data && a.model == b.model && a.training == b.training && a.finetune == b.finetune
            && a.classifier == b.classifier && a.checkpoint == b.checkpoint && a.layout == b.layout && a.out == b.out
    }
}
