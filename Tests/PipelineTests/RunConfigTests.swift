import Foundation
import Parallel
import Testing
@testable import Pipeline

/// YAML run configurations: exact values, and errors that name the file, line and key path.
@Suite struct RunConfigTests {
    /// The package root, found from this file's path (Tests/PipelineTests/RunConfigTests.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Writes `text` to a fresh temporary file and returns its path.
    private func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The error `load` throws for `text`, with the temporary path replaced by `x.yaml`.
    private func loadError(_ text: String) throws -> String {
        let path = try file(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: RunConfigError.self) { try RunConfig.load(path: path) }
        #expect(error.file == path)
        return error.description.replacingOccurrences(of: path, with: "x.yaml")
    }

    @Test func fullExampleParsesToExactValues() throws {
        let path = try file("""
            # every key once
            data:
              fasta: [a.fa.gz, "b c.fa"]
              vocab: v.json
              init_from: ck/model
              k: 3
              stride: 1
              max_bases: 50000
              valid_fraction: 0.2
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
            layout:
              workers: 6
              bind: pu
              policy: scatter
              cpus: core:0-5
              oversubscribe: true
            out: runs/x
            """)
        let config = try RunConfig.load(path: path)
        let expected = RunConfig(
            data: .init(fasta: ["a.fa.gz", "b c.fa"], dataset: nil, vocab: "v.json", initFrom: "ck/model", k: 3,
                        stride: 1, maxBases: 50000, validFraction: 0.2),
            model: .init(emb: 64, hidden: 128, layers: 2, dropMult: 0.5),
            training: .init(batch: 16, bptt: 32, epochs: 2, maxSteps: 30, lr: 0.003, pctStart: 0.3, wd: 0.1,
                            clip: 0.25, alpha: 1.5, beta: 0, evalEvery: 10, seed: UInt64.max, deterministicShards: 8),
            layout: .init(workers: 6, bind: .pu, policy: .scatter, cpus: "core:0-5", oversubscribe: true),
            out: "runs/x")
        #expect(config == expected)
        #expect(config.layout.spec == LayoutSpec(workers: 6, unit: .pu, policy: .scatter, cpus: "core:0-5",
                                                 oversubscribe: true))
    }

    @Test func singleFastaPathAndDatasetInput() throws {
        #expect(try RunConfig.parse(yaml: "data: {fasta: g.fa}", file: "x").data.fasta == ["g.fa"])
        let config = try RunConfig.parse(yaml: "data:\n  dataset: d.csv\n", file: "x")
        #expect(config.data == RunConfig.DataSection(dataset: "d.csv"))
        #expect(config.model == RunConfig.ModelSection())
        #expect(config.out == nil)
    }

    @Test func unknownTopLevelKey() throws {
        #expect(try loadError("out: runs/x\n\noutput: y\n") ==
                "x.yaml:3: unknown key 'output' (known: data, model, training, layout, out)")
    }

    @Test func unknownNestedKeyNamesFullPathAndLine() throws {
        let text = "model:\n  emb: 64\n\ntraining:\n  batch: 8\n  # the paper's rate\n  learning_rate: 0.01\n"
        #expect(try loadError(text) == "x.yaml:7: unknown key 'training.learning_rate' (known: batch, bptt, epochs, "
                + "max_steps, lr, pct_start, wd, clip, alpha, beta, eval_every, seed, deterministic_shards)")
        let error = try #require(throws: RunConfigError.self) { try RunConfig.parse(yaml: text, file: "t.yaml") }
        #expect(error == RunConfigError(file: "t.yaml", line: 7, key: "training.learning_rate", error.message))
    }

    @Test func wrongTypes() throws {
        #expect(try loadError("training:\n  batch: sixty-four\n") ==
                "x.yaml:2: training.batch: expected a positive integer, got 'sixty-four'")
        #expect(try loadError("training:\n  batch: \"64\"\n") ==
                "x.yaml:2: training.batch: expected a positive integer, got '64'")
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
                "x.yaml:1: expected a mapping with sections data, model, training, layout, out")
    }

    @Test func badEnumValues() throws {
        #expect(try loadError("layout:\n  workers: 4\n  bind: socket\n") ==
                "x.yaml:3: layout.bind: expected one of core, pu, numa, got 'socket'")
        #expect(try loadError("layout:\n  policy: spread\n") ==
                "x.yaml:2: layout.policy: expected one of compact, scatter, got 'spread'")
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
        #expect(try loadError("training:\n  wd: -0.01\n") == "x.yaml:2: training.wd: expected a number >= 0, got '-0.01'")
    }

    @Test func fastaAndDatasetTogetherIsAnError() throws {
        #expect(try loadError("data:\n  fasta: g.fa\n  dataset: d.csv\n") ==
                "x.yaml:3: data: give fasta or dataset, not both")
    }

    @Test func duplicateKeyIsAnError() throws {
        #expect(try loadError("training:\n  lr: 1e-3\n  lr: 2e-3\n") == "x.yaml:2: duplicate key 'lr' in one mapping")
    }

    @Test func yamlSyntaxErrorNamesLine() throws {
        #expect(try loadError("training:\n  batch: 8\n  bptt: [70\n") ==
                "x.yaml:4: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence started at line 3)")
    }

    @Test func emptyFile() throws {
        #expect(try loadError("") == "x.yaml: config file is empty (expected sections data, model, training, layout, out)")
        #expect(try loadError("# only a comment\n\n") ==
                "x.yaml: config file is empty (expected sections data, model, training, layout, out)")
    }

    @Test func missingFile() throws {
        let path = "/nonexistent/run-\(UUID().uuidString).yaml"
        let error = try #require(throws: RunConfigError.self) { try RunConfig.load(path: path) }
        #expect(error.description == "\(path): config file not found")
    }

    @Test func everyShippedConfigLoads() throws {
        let dir = Self.packageRoot.appendingPathComponent("configs")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names == ["finetune-human.yaml", "layout-16core-scatter.yaml", "pretrain-human.yaml", "quick.yaml"])
        for name in names { _ = try RunConfig.load(path: dir.appendingPathComponent(name).path) }

        let layoutOnly = try RunConfig.load(path: dir.appendingPathComponent("layout-16core-scatter.yaml").path)
        #expect(layoutOnly == RunConfig(layout: .init(workers: 16, bind: .core, policy: .scatter)))
        let pretrain = try RunConfig.load(path: dir.appendingPathComponent("pretrain-human.yaml").path)
        #expect(pretrain.data.fasta == ["../shared/data/genomes/human_chr22_20-21M.fa.gz"])
        #expect(pretrain.model == RunConfig.ModelSection(emb: 400, hidden: 1150, layers: 3, dropMult: 1))
        #expect(pretrain.training.lr == 2e-3 && pretrain.training.batch == 64 && pretrain.training.bptt == 70)
        #expect(pretrain.out == "runs/pretrain")
        let finetune = try RunConfig.load(path: dir.appendingPathComponent("finetune-human.yaml").path)
        #expect(finetune.data == RunConfig.DataSection(dataset: "runs/human/dataset.csv", initFrom: "runs/pretrain"))
        #expect(finetune.training.lr == 1e-3)
    }

    @Test func flagsLayeredOverFile() throws {
        let file = RunConfig(data: .init(fasta: ["g.fa"], vocab: "v.json", k: 3), training: .init(batch: 16, lr: 1e-3),
                             layout: .init(workers: 16, policy: .scatter, oversubscribe: true), out: "runs/a")
        let flags = RunConfig(data: .init(dataset: "d.csv"), training: .init(lr: 5e-3),
                              layout: .init(workers: 2, oversubscribe: false))
        let merged = flags.layered(over: file)
        // The input is one choice: --dataset replaces the file's fasta list.
        #expect(merged.data == RunConfig.DataSection(dataset: "d.csv", vocab: "v.json", k: 3))
        #expect(merged.training == RunConfig.TrainingSection(batch: 16, lr: 5e-3))
        #expect(merged.layout == RunConfig.LayoutSection(workers: 2, policy: .scatter, oversubscribe: false))
        #expect(merged.out == "runs/a")
        #expect(RunConfig().layered(over: file) == file)
        #expect(RunConfig.LayoutSection().spec == LayoutSpec())
    }
}
