import ArgumentParser
import Model
import Pipeline

/// The model and minibatch shape of a step benchmark.
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

    @Option(help: "Model size: paper (400/1150x3), small (128/512x3) or tiny (64/128x3).")
    var preset: Preset?
    @Option(help: "Vocabulary size.")
    var vocab = 1025
    @Option(help: "Embedding size (default: the preset's, else 400).")
    var emb: Int?
    @Option(help: "Hidden size (default: the preset's, else 1150).")
    var hidden: Int?
    @Option(help: "LSTM layers (default: the preset's, else 3).")
    var layers: Int?
    @Option(help: "Streams per minibatch, all workers together (B). (default: 64)")
    var batchOption: Int?
    @Option(help: "BPTT window length (T). (default: 70)")
    var bpttOption: Int?
    @Option(help: "A run config (YAML): its model sizes, training batch/bptt and layout are the defaults; flags override them.")
    var config: String?

    /// The config file, loaded once (nil without --config).
    var file: RunConfig? {
        get throws { try config.map { try RunConfig.load(path: $0) } }
    }

    var batch: Int { get throws { try batchOption ?? file?.training.batch ?? 64 } }
    var bptt: Int { get throws { try bpttOption ?? file?.training.bptt ?? 70 } }

    func validate() throws {
        guard try batch >= 1 else { throw ValidationError("--batch must be >= 1 (got \(try batch))") }
        guard try bptt >= 1 else { throw ValidationError("--bptt must be >= 1 (got \(try bptt))") }
        try modelConfig().validate()
    }

    /// Sizes: flags, else the config file's model section, else the preset (paper by default).
    func modelConfig() throws -> AWDLSTMConfig {
        let (e, h, l) = (preset ?? .paper).sizes
        let m = try file?.model
        return AWDLSTMConfig(vocabSize: vocab, embeddingSize: emb ?? m?.emb ?? e, hiddenSize: hidden ?? m?.hidden ?? h,
                             layerCount: layers ?? m?.layers ?? l)
    }

    /// The preset's name, or "custom" when sizes were overridden.
    var name: String {
        emb == nil && hidden == nil && layers == nil ? (preset ?? .paper).rawValue : "custom"
    }

    /// These options as command-line arguments (for a `bench step` started under mpirun by
    /// `bench scaling --ranks`); keep in step with the option names above.
    var arguments: [String] {
        var a = ["--vocab", "\(vocab)"]
        if let preset { a += ["--preset", preset.rawValue] }
        for (flag, value) in [("--emb", emb), ("--hidden", hidden), ("--layers", layers),
                              ("--batch-option", batchOption), ("--bptt-option", bpttOption)] {
            if let value { a += [flag, "\(value)"] }
        }
        if let config { a += ["--config", config] }
        return a
    }
}
