import ArgumentParser
import Model
import Pipeline

/// The model and minibatch shape of a step benchmark, and the config file they may come from.
/// `--emb`, `--hidden`, `--layers`, `--batch` and `--bptt` are the config keys `model.*`,
/// `training.batch` and `training.bptt`, checked as in every other command.
struct BenchModelOptions: ParsableArguments {
    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case paper, small, tiny

        /// (embedding, hidden, layers)
        var sizes: (Int, Int, Int) {
            switch self {
            case .paper: return (400, 1150, 3)
            case .small: return (128, 512, 3)
            case .tiny: return (64, 128, 3)
            }
        }
    }

    @Option(help: ArgumentHelp("Model size: paper (400/1150x3), small (128/512x3) or tiny (64/128x3); "
        + "--emb/--hidden/--layers or a config's model: section override it (default: paper)."))
    var preset: Preset?
    @Option(help: "Vocabulary size.")
    var vocab = 1025
    @Option(parsing: .unconditional, help: .key("model.emb")) var emb: String?
    @Option(parsing: .unconditional, help: .key("model.hidden")) var hidden: String?
    @Option(parsing: .unconditional, help: .key("model.layers")) var layers: String?
    @Option(parsing: .unconditional, help: .key("training.batch")) var batch: String?
    @Option(parsing: .unconditional, help: .key("training.bptt")) var bptt: String?
    @OptionGroup var configOptions: ConfigOptions

    /// The settings: these options and `layout` over the config file (model, training.batch/bptt,
    /// layout sections).
    func settings(layout: LayoutOptions, _ extra: [ConfigOverride?] = []) throws -> RunConfig {
        try configOptions.resolve(extra + [.option("model.emb", "--emb", emb), .option("model.hidden", "--hidden", hidden),
                                   .option("model.layers", "--layers", layers), .option("training.batch", "--batch", batch),
                                   .option("training.bptt", "--bptt", bptt)] + layout.overrides)
    }

    /// Sizes: options, else the config file's model section, else the preset (paper by default).
    func modelConfig(_ settings: RunConfig) throws -> AWDLSTMConfig {
        let (e, h, l) = (preset ?? .paper).sizes
        let m = settings.model
        let config = AWDLSTMConfig(vocabSize: vocab, embeddingSize: m.emb ?? e, hiddenSize: m.hidden ?? h,
                                   layerCount: m.layers ?? l)
        try config.validate()
        return config
    }

    /// The preset's name, or "custom" when sizes were overridden.
    func name(_ settings: RunConfig) -> String {
        let m = settings.model
        return m.emb == nil && m.hidden == nil && m.layers == nil ? (preset ?? .paper).rawValue : "custom"
    }
}
