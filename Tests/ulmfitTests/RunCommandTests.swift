import Foundation
import Testing

/// `ulmfit run` end to end on tiny data: every stage into one folder, then skipped when complete,
/// rerun (with the reason) when its settings changed or it did not finish.
@Suite(.serialized) struct RunCommandTests {
    static let pipeline = """
        data:
          csv: ../labelled.csv        # relative to this file
          split_seed: 3
          fasta: [../genome.fa]
          k: 3
          stride: 1
        model: {emb: 8, hidden: 12, layers: 2}
        training: {batch: 4, bptt: 8, max_steps: 2}
        finetune: {lr: 1e-3}
        classifier: {batch: 8, bptt: 16, max_steps: 1}
        layout: {workers: 2, oversubscribe: true}
        out: ../runs/pipe

        """

    /// The stages of a run's log, e.g. ["data: running (not run yet)", ...].
    private func stages(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.hasPrefix("== ") }.map { String($0.dropFirst(3)) }
    }

    @Test func everyStageIntoOneFolderThenSkippedWhenComplete() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.writeDataset()
        try cli.write("configs/pipe.yaml", Self.pipeline)
        let first = try cli.run("run --config configs/pipe.yaml")
        try #require(first.status == 0, "\(first.error)")
        #expect(stages(first.stderr) == ["data: running (not run yet)", "pretrain: running (not run yet)",
                                         "finetune: running (not run yet)", "classifier: running (not run yet)",
                                         "test: evaluating runs/pipe/classifier on the test split"])
        #expect(first.stdout.contains("test (") && first.stdout.contains("done: test accuracy"))
        for file in ["config.yaml", "summary.json", "data/dataset.csv", "data/config.yaml", "pretrain/checkpoints/latest",
                     "pretrain/vocab.json", "finetune/checkpoints/latest", "classifier/checkpoints/latest",
                     "classifier/test.json", "test/test.json", "test/test-predictions.csv"] {
            #expect(cli.exists("runs/pipe/" + file), "missing \(file)")
        }
        // The test stage's record names the model relative to its own folder (no machine's paths).
        let test = try JSONSerialization.jsonObject(with: cli.data("runs/pipe/test/test.json")) as? [String: Any]
        #expect(test?["model"] as? String == "../classifier")
        #expect(try cli.read("runs/pipe/finetune/config.yaml").contains("init_from: \"../pretrain\""))
        #expect(try cli.read("runs/pipe/finetune/config.yaml").contains("lr: 0.001  # configs/pipe.yaml:9"))
        #expect(try cli.read("runs/pipe/classifier/config.yaml").contains("encoder: \"../finetune\""))

        // Complete: skipped, nothing rewritten.
        let metrics = try cli.data("runs/pipe/pretrain/metrics.jsonl")
        let again = try cli.run("run --config configs/pipe.yaml")
        #expect(stages(again.stderr) == ["data: complete, skipped (runs/pipe/data)",
                                         "pretrain: complete, skipped (runs/pipe/pretrain)",
                                         "finetune: complete, skipped (runs/pipe/finetune)",
                                         "classifier: complete, skipped (runs/pipe/classifier)",
                                         "test: complete, skipped (runs/pipe/test)"])
        #expect(again.stdout == first.stdout.split(separator: "\n").last.map { $0 + "\n" })
        #expect(try cli.data("runs/pipe/pretrain/metrics.jsonl") == metrics)

        // A changed setting reruns its stage (and what follows), saying why.
        let changed = try cli.run("run --config configs/pipe.yaml --set classifier.lr=0.01")
        #expect(stages(changed.stderr)[3] == "classifier: running (settings changed: classifier.lr: 0.02 -> 0.01)")
        #expect(stages(changed.stderr)[1] == "pretrain: complete, skipped (runs/pipe/pretrain)")

        // A stage that stopped (no summary.json) with the same settings continues from its newest
        // checkpoint; every later stage runs again. Without a checkpoint it runs again from the start.
        try FileManager.default.removeItem(atPath: cli.path("runs/pipe/finetune/summary.json"))
        let resumed = try cli.run("run --config configs/pipe.yaml --set classifier.lr=0.01")
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(stages(resumed.stderr)[2].hasPrefix("finetune: resuming (its last run stopped; using "))
        #expect(stages(resumed.stderr)[3] == "classifier: running (its input (finetune) was just run)")
        #expect(cli.exists("runs/pipe/finetune/summary.json"))
        try FileManager.default.removeItem(atPath: cli.path("runs/pipe/classifier/summary.json"))
        try FileManager.default.removeItem(atPath: cli.path("runs/pipe/classifier/checkpoints"))
        let rerun = try cli.run("run --config configs/pipe.yaml --set classifier.lr=0.01")
        #expect(stages(rerun.stderr)[3] == "classifier: running (its last run did not finish)")

        // The run's own config.yaml repeats it: everything complete.
        let repeated = try cli.run("run --config runs/pipe/config.yaml")
        #expect(repeated.status == 0)
        #expect(stages(repeated.stderr).allSatisfy { $0.contains("complete, skipped") }, "\(repeated.stderr)")

        // A folder holding another kind of run is refused.
        #expect(try cli.run("run --config configs/pipe.yaml --out runs/pipe/pretrain").error.contains("holds another run"))
    }

    /// Every stage's sizes are checked against the data before the first stage runs: nothing written.
    @Test func laterStagesAreCheckedBeforeAnythingIsWritten() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.writeDataset()
        try cli.write("configs/pipe.yaml", Self.pipeline)
        let classifier = try cli.run("run --config configs/pipe.yaml --set classifier.batch=100000 -q")
        #expect(classifier.error.hasPrefix("Error: --set classifier.batch: the train split of runs/pipe/data/dataset.csv has"))
        let finetune = try cli.run("run --config configs/pipe.yaml --set finetune.bptt=100000 -q")
        #expect(finetune.error.hasPrefix("Error: --set finetune.bptt: batch 4 x bptt 100000 does not fit the data"),
                "\(finetune.error)")
        let inputs = try cli.run("run --config configs/pipe.yaml --set data.dataset=dataset.csv -q")
        #expect(inputs.error.contains("give a prepared dataset (data.dataset, --set data.dataset) or files to prepare"))
        #expect(!cli.exists("runs"))
    }

    /// scripts/run.sh passes its options through: --workers and --max-steps apply to every stage.
    @Test func passThroughOptionsReachEveryStage() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.writeDataset()
        try cli.write("configs/pipe.yaml", Self.pipeline)
        let r = try cli.run("run --config configs/pipe.yaml --workers 1 --max-steps 1 --out runs/one -q")
        try #require(r.status == 0, "\(r.error)")
        for stage in ["pretrain", "finetune", "classifier"] {
            let config = try cli.read("runs/one/\(stage)/config.yaml")
            #expect(config.contains("max_steps: 1  # --max-steps") && config.contains("workers: 1  # --workers"), "\(stage)")
        }
        #expect(try cli.read("runs/one/pretrain/metrics.jsonl").split(separator: "\n").count == 1)
    }
}
