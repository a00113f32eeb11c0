import Model
import Parallel
import Training

extension RunConfig {
    /// Every built-in default, read from the options types the runs and trainers take — the one
    /// place defaults live. Help texts and resolved configs show these values.
    public static var defaults: RunConfig {
        let data = DataOptions(), model = AWDLSTMConfig(vocabSize: 2)
        let lmTrainer = LanguageModelTrainerOptions(), lmRun = LanguageModelRunOptions(outDirectory: "")
        let clasTrainer = ClassifierTrainerOptions(), clasRun = ClassifierRunOptions(stages: [], outDirectory: "")
        let layout = LayoutSpec()
        var c = RunConfig()
        c.data = DataSection(splitSeed: data.splitSeed, k: data.k, stride: data.stride, maxBases: data.maxBases,
                             validFraction: data.validFraction, lmSplits: data.lmSplits)
        c.model = ModelSection(emb: model.embeddingSize, hidden: model.hiddenSize, layers: model.layerCount,
                               dropMult: lmRun.dropMult)
        c.training = TrainingSection(
            batch: lmTrainer.batchSize, bptt: lmTrainer.bptt, epochs: lmRun.epochs, maxSteps: lmRun.maxSteps,
            lr: lmRun.learningRate, pctStart: lmRun.pctStart, wd: lmRun.weightDecay, clip: lmRun.maxGradNorm,
            alpha: lmTrainer.regularization.alpha, beta: lmTrainer.regularization.beta, evalEvery: lmRun.evalEvery,
            seed: lmTrainer.seed, deterministicShards: lmTrainer.deterministicShards)
        c.classifier = ClassifierSection(
            batch: clasTrainer.batchSize, bptt: clasTrainer.bptt, epochs: ClassifierRunOptions.defaultEpochs,
            maxSteps: clasRun.maxStepsPerStage, lr: ClassifierRunOptions.defaultLearningRate,
            pctStart: clasRun.pctStart, wd: clasRun.weightDecay, clip: clasRun.maxGradNorm, dropMult: clasRun.dropMult,
            alpha: clasTrainer.regularization.alpha, beta: clasTrainer.regularization.beta,
            seed: clasTrainer.seed, deterministicShards: clasTrainer.deterministicShards)
        let policy = CheckpointPolicy()
        c.checkpoint = CheckpointSection(keep: policy.keep ?? 0, every: policy.everySteps, minutes: policy.everyMinutes ?? 0)
        c.layout = LayoutSection(policy: layout.policy, oversubscribe: layout.oversubscribe)
        return c
    }

    /// This config with every unset key of `keys` taken from `defaults` (source: the default).
    public func filled(_ keys: [ConfigKey], from defaults: RunConfig = RunConfig.defaults) -> RunConfig {
        var c = self
        for key in keys where !key.isSet(in: c) && key.isSet(in: defaults) {
            key.copy(from: defaults, into: &c)
        }
        return c
    }

    /// The config of `ulmfit run`'s fine-tuning stage: `training:` with the keys `finetune:` sets
    /// replaced by those values (and their sources).
    public var fineTuning: RunConfig {
        var c = self
        let pairs = zip(ConfigSchema.keys(in: "training"), ConfigSchema.keys(in: "finetune"))
        for (training, finetune) in pairs where finetune.isSet(in: self) {
            training.set(&c, finetune.get(self))
            c.sources[training.path] = sources[finetune.path]
        }
        return c
    }

    /// When checkpoints are written and how many are kept (`CheckpointPolicy`'s defaults for
    /// what is unset; 0 is "none": keep all, not by time).
    public var checkpointPolicy: CheckpointPolicy {
        var p = CheckpointPolicy()
        if let keep = checkpoint.keep { p.keep = keep == 0 ? nil : keep }
        if let every = checkpoint.every { p.everySteps = every }
        if let minutes = checkpoint.minutes { p.everyMinutes = minutes == 0 ? nil : minutes }
        return p
    }

    /// The language-model trainer's options (defaults for what is unset).
    public var languageModelTrainerOptions: LanguageModelTrainerOptions {
        var o = LanguageModelTrainerOptions()
        let t = training
        if let v = t.batch { o.batchSize = v }
        if let v = t.bptt { o.bptt = v }
        if let v = t.seed { o.seed = v }
        if let v = t.alpha { o.regularization.alpha = v }
        if let v = t.beta { o.regularization.beta = v }
        if let v = t.deterministicShards { o.deterministicShards = v }
        return o
    }

    /// The language-model run's options, writing to `out` (defaults for what is unset).
    public func languageModelRunOptions(out: String) -> LanguageModelRunOptions {
        var o = LanguageModelRunOptions(outDirectory: out)
        let t = training
        if let v = t.epochs { o.epochs = v }
        if let v = t.maxSteps { o.maxSteps = v }
        if let v = t.lr { o.learningRate = v }
        if let v = t.pctStart { o.pctStart = v }
        if let v = t.wd { o.weightDecay = v }
        if let v = t.clip { o.maxGradNorm = v }
        if let v = t.evalEvery { o.evalEvery = v }
        if let v = model.dropMult { o.dropMult = v }
        o.checkpoints = checkpointPolicy
        return o
    }

    /// The classifier trainer's options (defaults for what is unset).
    public var classifierTrainerOptions: ClassifierTrainerOptions {
        var o = ClassifierTrainerOptions()
        let c = classifier
        if let v = c.batch { o.batchSize = v }
        if let v = c.bptt { o.bptt = v }
        if let v = c.seed { o.seed = v }
        if let v = c.alpha { o.regularization.alpha = v }
        if let v = c.beta { o.regularization.beta = v }
        if let v = c.deterministicShards { o.deterministicShards = v }
        return o
    }

    /// The classifier recipe: as set, else ULMFiT's gradual unfreezing with an encoder and all
    /// groups at once from scratch.
    public var classifierRecipe: ClassifierRecipe { classifier.stages ?? (data.encoder == nil ? .all : .ulmfit) }

    /// The classifier run's options, writing to `out` (defaults for what is unset).
    public func classifierRunOptions(out: String) -> ClassifierRunOptions {
        let c = classifier
        var o = ClassifierRunOptions(stages: classifierRecipe.stages(
            learningRate: c.lr ?? ClassifierRunOptions.defaultLearningRate,
            epochs: c.epochs ?? ClassifierRunOptions.defaultEpochs), outDirectory: out)
        if let v = c.maxSteps { o.maxStepsPerStage = v }
        if let v = c.pctStart { o.pctStart = v }
        if let v = c.wd { o.weightDecay = v }
        if let v = c.clip { o.maxGradNorm = v }
        if let v = c.dropMult { o.dropMult = v }
        o.checkpoints = checkpointPolicy
        return o
    }

    /// Data settings (defaults for what is unset).
    public var dataOptions: DataOptions {
        var o = DataOptions()
        if let v = data.k { o.k = v }
        if let v = data.stride { o.stride = v }
        if let v = data.validFraction { o.validFraction = v }
        if let v = data.maxBases { o.maxBases = v }
        if let v = data.splitSeed { o.splitSeed = v }
        if let v = data.lmSplits { o.lmSplits = v }
        return o
    }

    /// The model shape for a vocabulary of `vocabSize` tokens (fastai's language-model dropouts).
    public func languageModelConfig(vocabSize: Int) -> AWDLSTMConfig {
        let d = AWDLSTMConfig(vocabSize: vocabSize)
        return AWDLSTMConfig(vocabSize: vocabSize, embeddingSize: model.emb ?? d.embeddingSize,
                             hiddenSize: model.hidden ?? d.hiddenSize, layerCount: model.layers ?? d.layerCount)
    }

    /// The model shape for a vocabulary of `vocabSize` tokens (fastai's classifier dropouts).
    public func classifierConfig(vocabSize: Int) -> AWDLSTMConfig {
        let d = AWDLSTMConfig(vocabSize: vocabSize)
        return AWDLSTMConfig.classifier(vocabSize: vocabSize, embeddingSize: model.emb ?? d.embeddingSize,
                                        hiddenSize: model.hidden ?? d.hiddenSize, layerCount: model.layers ?? d.layerCount)
    }
}
