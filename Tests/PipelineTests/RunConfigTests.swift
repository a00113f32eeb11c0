import Foundation
import Model
import Parallel
import Testing
import Training
@testable import Pipeline

/// YAML configs and command-line options: exact values, one set of checks for both, errors that
/// name the file and line (or the option) and the key, paths relative to the config's folder,
/// defaults from the options types, and the resolved config read back unchanged.
@Suite final class RunConfigTests {
    /// The package root, found from this file's path (Tests/PipelineTests/RunConfigTests.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// Writes `text` to a fresh file in `folder` and returns its path.
    private func file(_ text: String, name: String = "run.yaml") throws -> String {
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The error `load` throws for `text`, with the file's path replaced by `x.yaml`.
    private func loadError(_ text: String) throws -> String {
        let path = try file(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: RunConfigError.self) { try RunConfig.load(path: path) }
        #expect(error.file == path)
        return error.description.replacingOccurrences(of: path, with: "x.yaml")
    }

    /// The error of resolving `overrides` over no file.
    private func optionError(_ overrides: [ConfigOverride?]) -> String {
        do {
            _ = try RunConfig.resolve(file: nil, overrides: overrides.compactMap { $0 })
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    static let everyKey = """
        # every key once
        data:
          fasta: [a.fa.gz, "b c.fa"]
          dataset: sets/d.csv
          csv: /abs/p.csv
          positive: [p.fa]
          negative: [n.fa]
          split_seed: 7
          vocab: v.json
          init_from: ck/model
          encoder: ../lm/model
          k: 3
          stride: 1
          max_bases: 50000
          valid_fraction: 0.2
          lm_splits: train+valid
        model:
          emb: 64
          hidden: 128
          layers: 2
          drop_mult: 0.5
        training:
          batch: 16
          bptt: 32
          epochs: 2
          max_steps: 30
          lr: 3e-3
          pct_start: 0.3
          wd: 0.1
          clip: 0.25
          alpha: 1.5
          beta: 0
          eval_every: 10
          seed: 18446744073709551615
          deterministic_shards: 8
        finetune:
          lr: 1e-5
          epochs: 3
        classifier:
          stages: all
          batch: 32
          bptt: 50
          epochs: 4
          max_steps: 9
          lr: 0.02
          pct_start: 0.5
          wd: 0
          clip: 1
          drop_mult: 0.7
          alpha: 1.5
          beta: 0.5
          seed: 3
          deterministic_shards: 2
        checkpoint:
          keep: 0
          every: 50
          minutes: 2.5
        layout:
          workers: 6
          bind: pu
          policy: scatter
          cpus: core:0-5
          oversubscribe: true
        out: runs/x
        """

    @Test func everyKeyParsesToExactValuesWithPathsRelativeToTheFile() throws {
        let config = try RunConfig.load(path: try file(Self.everyKey))
        let f = ConfigPath.resolve(folder)
        let expected = RunConfig(
            data: .init(fasta: [f + "/a.fa.gz", f + "/b c.fa"], dataset: f + "/sets/d.csv", csv: ["/abs/p.csv"],
                        positive: [f + "/p.fa"], negative: [f + "/n.fa"], splitSeed: 7, vocab: f + "/v.json",
                        initFrom: f + "/ck/model", encoder: (f as NSString).deletingLastPathComponent + "/lm/model",
                        k: 3, stride: 1, maxBases: 50000, validFraction: 0.2, lmSplits: .trainAndValid),
            model: .init(emb: 64, hidden: 128, layers: 2, dropMult: 0.5),
            training: .init(batch: 16, bptt: 32, epochs: 2, maxSteps: 30, lr: 0.003, pctStart: 0.3, wd: 0.1,
                            clip: 0.25, alpha: 1.5, beta: 0, evalEvery: 10, seed: UInt64.max, deterministicShards: 8),
            finetune: .init(epochs: 3, lr: 1e-5),
            classifier: .init(stages: .all, batch: 32, bptt: 50, epochs: 4, maxSteps: 9, lr: 0.02, pctStart: 0.5, wd: 0,
                              clip: 1, dropMult: 0.7, alpha: 1.5, beta: 0.5, seed: 3, deterministicShards: 2),
            checkpoint: .init(keep: 0, every: 50, minutes: 2.5),
            layout: .init(workers: 6, bind: .pu, policy: .scatter, cpus: "core:0-5", oversubscribe: true),
            out: f + "/runs/x")
        #expect(config == expected)
        #expect(config.layout.spec == LayoutSpec(workers: 6, unit: .pu, policy: .scatter, cpus: "core:0-5", oversubscribe: true))
        // Every value remembers its line.
        #expect(config.source(of: "data.k") == .file(folder + "/run.yaml", line: 12))
        #expect(config.source(of: "out") == .file(folder + "/run.yaml", line: 64))
        #expect(config.sources.count == ConfigSchema.keys.count - 11)   // finetune sets 2 of its 13 keys
        // The fine-tuning stage: training with finetune's keys on top, and their sources.
        #expect(config.fineTuning.training == RunConfig.TrainingSection(
            batch: 16, bptt: 32, epochs: 3, maxSteps: 30, lr: 1e-5, pctStart: 0.3, wd: 0.1, clip: 0.25, alpha: 1.5, beta: 0,
            evalEvery: 10, seed: UInt64.max, deterministicShards: 8))
        #expect(config.fineTuning.source(of: "training.lr") == .file(folder + "/run.yaml", line: 37))
    }

    @Test func theSameRelativePathMeansTheSameFileFromAnyWorkingDirectory() throws {
        try FileManager.default.createDirectory(atPath: folder + "/configs", withIntermediateDirectories: true)
        let path = try file("data: {dataset: ../runs/d.csv}\nout: out\n", name: "configs/c.yaml")
        let direct = try RunConfig.load(path: path)
        #expect(direct.data.dataset == ConfigPath.resolve(folder) + "/runs/d.csv")
        #expect(direct.out == ConfigPath.resolve(folder) + "/configs/out")
        // Through a relative path to the file: the same absolute paths.
        let relative = ConfigPath.relative(path, from: FileManager.default.currentDirectoryPath)
        #expect(try RunConfig.load(path: relative) == direct)
    }

    @Test func unknownKeysNameFileLineAndTheKnownKeys() throws {
        #expect(try loadError("out: runs/x\n\noutput: y\n") ==
                "x.yaml:3: output: unknown key 'output' (known: data, model, training, finetune, classifier, checkpoint, layout, out)")
        let text = "model:\n  emb: 64\n\ntraining:\n  batch: 8\n  # the paper's rate\n  learning_rate: 0.01\n"
        #expect(try loadError(text) == "x.yaml:7: training.learning_rate: unknown key 'training.learning_rate' (known: "
                + "batch, bptt, epochs, max_steps, lr, pct_start, wd, clip, alpha, beta, eval_every, seed, deterministic_shards)")
        let error = try #require(throws: RunConfigError.self) { try RunConfig.parse(yaml: text, file: "t.yaml") }
        #expect(error == RunConfigError(file: "t.yaml", line: 7, key: "training.learning_rate", error.message))
        #expect(try loadError("classifier:\n  encoder: m\n").hasPrefix("x.yaml:2: classifier.encoder: unknown key"))
    }

    @Test func wrongTypes() throws {
        #expect(try loadError("training:\n  batch: sixty-four\n") ==
                "x.yaml:2: training.batch: expected a positive integer, got 'sixty-four'")
        #expect(try loadError("training:\n  batch: \"64\"\n") ==
                "x.yaml:2: training.batch: expected a positive integer, got the quoted text '64' "
                + "(numbers and true/false are written without quotes)")
        #expect(try loadError("training:\n  epochs: 1.5\n") ==
                "x.yaml:2: training.epochs: expected a positive integer, got '1.5'")
        #expect(try loadError("model:\n  drop_mult: [1]\n") ==
                "x.yaml:2: model.drop_mult: expected a number >= 0, got a list")
        #expect(try loadError("layout:\n  oversubscribe: maybe\n") ==
                "x.yaml:2: layout.oversubscribe: expected true or false, got 'maybe'")
        #expect(try loadError("data:\n  vocab:\n") == "x.yaml:2: data.vocab: expected a vocabulary JSON path, got nothing")
        #expect(try loadError("training: 5\n") == "x.yaml:1: training: expected a mapping with keys batch, bptt, "
                + "epochs, max_steps, lr, pct_start, wd, clip, alpha, beta, eval_every, seed, deterministic_shards, got '5'")
        #expect(try loadError("- a\n- b\n") ==
                "x.yaml:1: expected a mapping with sections data, model, training, finetune, classifier, checkpoint, layout, out")
    }

    @Test func badEnumValues() throws {
        #expect(try loadError("layout:\n  workers: 4\n  bind: socket\n") ==
                "x.yaml:3: layout.bind: expected one of core, pu, numa, got 'socket'")
        #expect(try loadError("layout:\n  policy: spread\n") ==
                "x.yaml:2: layout.policy: expected one of compact, scatter, got 'spread'")
        #expect(try loadError("classifier:\n  stages: some\n") ==
                "x.yaml:2: classifier.stages: expected one of ulmfit, all, head, got 'some'")
    }

    @Test func outOfRangeNumbers() throws {
        #expect(try loadError("training:\n  batch: -4\n") == "x.yaml:2: training.batch: expected a positive integer, got '-4'")
        #expect(try loadError("layout:\n  workers: 0\n") == "x.yaml:2: layout.workers: expected a positive integer, got '0'")
        #expect(try loadError("training:\n  lr: -1e-3\n") == "x.yaml:2: training.lr: expected a number > 0, got '-1e-3'")
        #expect(try loadError("training:\n  lr: .inf\n") == "x.yaml:2: training.lr: expected a number > 0, got '.inf'")
        #expect(try loadError("training:\n  seed: -1\n") ==
                "x.yaml:2: training.seed: expected a non-negative integer, got '-1'")
        #expect(try loadError("training:\n  pct_start: 1.5\n") ==
                "x.yaml:2: training.pct_start: expected a number in [0, 1], got '1.5'")
        #expect(try loadError("data:\n  valid_fraction: 1\n") ==
                "x.yaml:2: data.valid_fraction: expected a number in [0, 1), got '1'")
        #expect(try loadError("training:\n  eval_every: 0\n") ==
                "x.yaml:2: training.eval_every: expected a positive integer, got '0'")
        #expect(try loadError("finetune:\n  wd: -0.01\n") == "x.yaml:2: finetune.wd: expected a number >= 0, got '-0.01'")
    }

    /// An option's value goes through the check of its config key; negative numbers are values.
    @Test func optionsGoThroughTheSameChecksAsTheirKeys() throws {
        #expect(optionError([.option("training.eval_every", "--eval-every", "0")])
                == "--eval-every: expected a positive integer, got '0' (training.eval_every)")
        #expect(optionError([.option("training.lr", "--lr", "-1")])
                == "--lr: expected a number > 0, got '-1' (training.lr)")
        #expect(optionError([.option("classifier.deterministic_shards", "--deterministic-shards", "0")])
                == "--deterministic-shards: expected a positive integer, got '0' (classifier.deterministic_shards)")
        #expect(optionError([.option("layout.bind", "--bind", "socket")])
                == "--bind: expected one of core, pu, numa, got 'socket' (layout.bind)")
        #expect(optionError([try ConfigOverride.assignment("training.lr=-1")])
                == "--set training.lr: expected a number > 0, got '-1'")
        #expect(optionError([try ConfigOverride.assignment("data.fasta=[a.fa, b.fa]")]) == "no error")
        #expect(throws: RunConfigError.self) { try ConfigOverride.assignment("training.learning_rate=1") }
        #expect(throws: RunConfigError.self) { try ConfigOverride.assignment("no equals sign") }
        // A path option is one string, even with YAML's special characters.
        let odd = try RunConfig.resolve(file: nil, overrides: [.option("out", "--out", "runs/a: b #1")!])
        #expect(odd.out == ConfigPath.resolve("runs/a: b #1"))
    }

    @Test func optionsOverTheFileKeepEachValuesSource() throws {
        let path = try file("data:\n  fasta: g.fa\n  k: 3\ntraining:\n  batch: 16\n  lr: 1e-3\nlayout:\n  workers: 16\n")
        let options: [ConfigOverride] = [.option("data.dataset", "--dataset", "d.csv")!, .option("training.lr", "--lr", "5e-3")!,
                                         .option("layout.workers", "--workers", "2")!]
        let merged = try RunConfig.resolve(file: path, overrides: options, exclusive: [["data.fasta", "data.dataset"]])
        // The input is one choice: --dataset replaces the file's fasta.
        #expect(merged.data == RunConfig.DataSection(dataset: ConfigPath.resolve("d.csv"), k: 3))
        #expect(merged.training == RunConfig.TrainingSection(batch: 16, lr: 5e-3))
        #expect(merged.layout.workers == 2)
        #expect(merged.source(of: "training.lr") == .flag("--lr"))
        #expect(merged.source(of: "training.batch") == .file(path, line: 5))
        #expect(merged.source(of: "training.bptt") == .builtIn)
        #expect(merged.error("training.batch", "too big").description == "\(path):5: training.batch: too big")
        #expect(try RunConfig.resolve(file: path, overrides: []) == RunConfig.load(path: path))
    }

    /// The defaults shown in help texts and filled into resolved configs are the options types'.
    @Test func defaultsComeFromTheOptionsTypes() throws {
        let d = RunConfig.defaults
        #expect(d.training.batch == LanguageModelTrainerOptions().batchSize)
        #expect(d.training.lr == LanguageModelRunOptions(outDirectory: "").learningRate)
        #expect(d.classifier.dropMult == ClassifierRunOptions(stages: [], outDirectory: "").dropMult)
        #expect(d.model.hidden == AWDLSTMConfig(vocabSize: 2).hiddenSize)
        #expect(d.data.k == DataOptions().k)
        let lr = LanguageModelRunOptions(outDirectory: "").learningRate
        #expect(ConfigSchema.help("training.lr").hasSuffix("(training.lr; default: \(lr))."))
        #expect(ConfigSchema.help("training.clip").hasSuffix("(training.clip; default: no clipping)."))
        // Unset settings map to the options types' own defaults.
        #expect(RunConfig().languageModelTrainerOptions.batchSize == LanguageModelTrainerOptions().batchSize)
        #expect(RunConfig().classifierRunOptions(out: "o").stages == ClassifierStage.all(learningRate: 2e-2, epochs: 2))
        var withEncoder = RunConfig()
        withEncoder.data.encoder = "/m"
        #expect(withEncoder.classifierRunOptions(out: "o").stages == ClassifierStage.ulmfit(learningRate: 2e-2, epochs: 2))
    }

    /// A resolved config written into a folder reads back to the same settings (paths relative
    /// to that folder), so `--config RUN/config.yaml` repeats the run.
    @Test func resolvedConfigReadsBackUnchanged() throws {
        let original = try RunConfig.load(path: try file(Self.everyKey)).filled(ConfigSchema.keys)
        var tricky = original
        tricky.training.lr = 1e-5
        tricky.classifier.wd = 0.1 + 0.2      // not a short decimal
        tricky.model.dropMult = Float(0.1) * 3
        for config in [original, tricky] {
            let runFolder = folder + "/runs/deep/run"
            try config.write(keys: ConfigSchema.keys, to: runFolder + "/config.yaml", header: "test\nsecond line")
            let text = try String(contentsOfFile: runFolder + "/config.yaml", encoding: .utf8)
            #expect(text.hasPrefix("# test\n# second line\ndata:\n  fasta: [\"../../../a.fa.gz\", \"../../../b c.fa\"]"))
            let back = try RunConfig.load(path: runFolder + "/config.yaml")
            #expect(back == config)
        }
    }

    @Test func fastaAndDatasetMayBothBeInAPipelineConfig() throws {
        let config = try RunConfig.parse(yaml: "data:\n  fasta: g.fa\n  dataset: d.csv\n", file: "x.yaml")
        #expect(config.data.fasta != nil && config.data.dataset != nil)
    }

    @Test func duplicateKeyIsAnError() throws {
        #expect(try loadError("training:\n  lr: 1e-3\n  lr: 2e-3\n") == "x.yaml:2: duplicate key 'lr' in one mapping")
    }

    @Test func yamlSyntaxErrorNamesLine() throws {
        #expect(try loadError("training:\n  batch: 8\n  bptt: [70\n") ==
                "x.yaml:4: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence started at line 3)")
    }

    @Test func emptyFile() throws {
        let sections = "data, model, training, finetune, classifier, checkpoint, layout, out"
        #expect(try loadError("") == "x.yaml: config file is empty (expected sections \(sections))")
        #expect(try loadError("# only a comment\n\n") == "x.yaml: config file is empty (expected sections \(sections))")
    }

    @Test func missingFile() throws {
        let path = "/nonexistent/run-\(UUID().uuidString).yaml"
        let error = try #require(throws: RunConfigError.self) { try RunConfig.load(path: path) }
        #expect(error.description == "\(path): config file not found")
    }

    @Test func everyShippedConfigLoads() throws {
        let dir = Self.packageRoot.appendingPathComponent("configs")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names == ["ecoli.yaml", "finetune-human.yaml", "layout-16core-scatter.yaml", "paper.yaml", "pipeline.yaml",
                          "pretrain-human.yaml", "quick.yaml"])
        for name in names { _ = try RunConfig.load(path: dir.appendingPathComponent(name).path) }
        let root = ConfigPath.resolve(Self.packageRoot.path)
        let shared = (root as NSString).deletingLastPathComponent + "/shared/data"

        let layoutOnly = try RunConfig.load(path: dir.appendingPathComponent("layout-16core-scatter.yaml").path)
        #expect(layoutOnly == RunConfig(layout: .init(workers: 16, bind: .core, policy: .scatter)))
        let pretrain = try RunConfig.load(path: dir.appendingPathComponent("pretrain-human.yaml").path)
        #expect(pretrain.data.fasta == [shared + "/genomes/human_chr22_20-21M.fa.gz"])
        #expect(pretrain.model == RunConfig.ModelSection(emb: 400, hidden: 1150, layers: 3, dropMult: 1))
        #expect(pretrain.training.lr == 2e-3 && pretrain.training.batch == 64 && pretrain.training.bptt == 70)
        #expect(pretrain.out == root + "/runs/pretrain")
        let finetune = try RunConfig.load(path: dir.appendingPathComponent("finetune-human.yaml").path)
        #expect(finetune.data == RunConfig.DataSection(dataset: root + "/runs/human/dataset.csv",
                                                       initFrom: root + "/runs/pretrain"))
        #expect(finetune.training.lr == 1e-3)
        let paper = try RunConfig.load(path: dir.appendingPathComponent("paper.yaml").path)
        #expect(paper.model == RunConfig.ModelSection(emb: 400, hidden: 1150, layers: 3, dropMult: 0.25))
        #expect(paper.fineTuning.training.lr == 8e-4 && paper.classifier.epochs == 4 && paper.classifier.dropMult == 0.5)
        let pipeline = try RunConfig.load(path: dir.appendingPathComponent("pipeline.yaml").path)
        #expect(pipeline.data.csv == [shared + "/human_promoters/cnnprom_human_nontata_9034.csv.gz"])
        #expect(pipeline.fineTuning.training.lr == 2.5e-3 && pipeline.training.lr == 5e-3 && pipeline.classifier.lr == 2e-2)
        #expect(pipeline.model == RunConfig.ModelSection(emb: 128, hidden: 512, layers: 3))
        #expect(pipeline.fineTuning.training.epochs == 5 && pipeline.training.epochs == 10)
        #expect(pipeline.out == root + "/runs/main")
        // The E. coli transfer pipeline: both genomes, the promoters as FASTA, the driver's settings.
        let ecoli = try RunConfig.load(path: dir.appendingPathComponent("ecoli.yaml").path)
        #expect(ecoli.data.fasta == ["ecoli_K12_MG1655", "ecoli_536"].map { shared + "/genomes/\($0).fa.gz" })
        #expect(ecoli.data.positive == [shared + "/bacteria/Ecoli_prom.fa.gz"])
        #expect(ecoli.data.negative == [shared + "/bacteria/Ecoli_non_prom.fa.gz"])
        #expect(ecoli.model == RunConfig.ModelSection(emb: 128, hidden: 512, layers: 3, dropMult: 0.3))
        #expect(ecoli.training.lr == 1e-2 && ecoli.training.epochs == 3)
        #expect(ecoli.fineTuning.training.lr == 5e-3 && ecoli.fineTuning.training.epochs == 10)
        #expect(ecoli.classifier.lr == 2e-2 && ecoli.classifier.epochs == 2)
        #expect(ecoli.out == root + "/runs/ecoli")
    }
}
