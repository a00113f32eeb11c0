import Foundation
import Testing

/// What a user sees from the command line (issue 12's classes and issue 14's configs): every bad
/// setting is a named error before anything is written, nothing written is lost, and one config
/// schema serves every command. Each command runs the built binary on tiny inputs.
@Suite(.serialized) struct CLITests {
    /// Every option goes through the check of its config key: no trap, no parser confusion
    /// over negative numbers, the same words as for the key in a file.
    @Test func optionsAreCheckedLikeTheirConfigKeys() throws {
        let cli = try CLI()
        try cli.writeGenome()
        let base = "train-lm --fasta genome.fa \(CLI.tinyLM) --out o"
        let zero = try cli.run(base + " --eval-every 0")
        #expect(zero.status == 1)   // a validation error, not a trap (132) or a crash
        #expect(zero.error == "Error: --eval-every: expected a positive integer, got '0' (training.eval_every)")
        try cli.write("zero.yaml", "training:\n  eval_every: 0\n")
        let file = try cli.run(base + " --config zero.yaml")
        #expect(file.error == "Error: zero.yaml:2: training.eval_every: expected a positive integer, got '0'")
        #expect(try cli.run(base + " --lr -1").error == "Error: --lr: expected a number > 0, got '-1' (training.lr)")
        let shards = try cli.run(base + " --deterministic-shards 0")
        #expect(shards.error == "Error: --deterministic-shards: expected a positive integer, got '0' (training.deterministic_shards)")
        let few = try cli.run(base + " --deterministic-shards 1")
        #expect(few.error.contains("deterministic mode with 1 shard cannot use 2 workers"))
        #expect(try cli.run(base + " --set training.wd=-1").error == "Error: --set training.wd: expected a number >= 0, got '-1'")
        #expect(!cli.exists("o"))
    }

    /// Sizes are checked against the data and the memory before anything is allocated or written.
    @Test func sizesAreCheckedAgainstTheDataAndTheMemory() throws {
        let cli = try CLI()
        try cli.writeGenome()
        let base = "train-lm --fasta genome.fa \(CLI.tinyLM)"
        let bptt = try cli.run(base + " --bptt 1000000 --out a")
        #expect(bptt.status == 1)
        #expect(bptt.error.hasPrefix("Error: --bptt: batch 4 x bptt 1000000 does not fit the data"))
        #expect(bptt.error.contains("tokens per stream") && bptt.error.contains("at most bptt"))
        let batch = try cli.run(base + " --batch 100000 --out b")
        #expect(batch.error.hasPrefix("Error: --batch: batch 100000 x bptt 8 does not fit the data"))
        #expect(batch.error.contains("use at most batch"))
        // A model too big for any machine: refused with the estimate, before allocating it.
        let big = try cli.run(base + " --emb 200000 --hidden 200000 --out c")
        #expect(big.status == 1)
        #expect(big.error.contains("the run needs about") && big.error.contains("per worker") && big.error.contains("available"))
        #expect(!cli.exists("a") && !cli.exists("b") && !cli.exists("c"))
    }

    /// A setting that cannot apply is an error naming the conflict (and both sources).
    @Test func settingsThatCannotApplyAreErrors() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.writeDataset()
        #expect(try cli.run("vocab --k 3 --stride 1 --out v.json genome.fa -q").status == 0)
        let lm = try cli.run("train-lm --dataset dataset.csv --init-from lm --vocab v.json --out o -q")
        #expect(lm.error == "Error: --vocab: data.init_from (--init-from) brings its vocabulary and model sizes, so "
                + "data.vocab (--vocab) cannot apply: remove it (data.vocab)")
        let k = try cli.run("train-lm --dataset dataset.csv --init-from lm --k 4 --stride 2 --out o -q")
        #expect(k.error.contains("so data.k (--k), data.stride (--stride) cannot apply"))
        let clas = try cli.run("train-classifier --dataset dataset.csv --encoder lm --emb 8 --hidden 12 --out o -q")
        #expect(clas.error.contains("data.encoder (--encoder) brings its vocabulary and model sizes, so model.emb (--emb), "
                                    + "model.hidden (--hidden) cannot apply"))
        try cli.write("k5.yaml", "data:\n  k: 5\n")
        let vocab = try cli.run("train-lm --config k5.yaml --fasta genome.fa --vocab v.json --out o -q")
        #expect(vocab.error.hasPrefix("Error: k5.yaml:2: data.k: k = 5, but the vocabulary data.vocab (--vocab)"))
        #expect(vocab.error.contains("was built with k = 3"))
        let both = try cli.run("train-lm --fasta genome.fa --set data.dataset=dataset.csv --out o -q")
        #expect(both.error.contains("train-lm trains on one input"))
        let unused = try cli.run("train-lm --fasta genome.fa --set classifier.lr=1 --out o -q")
        #expect(unused.error == "Error: --set classifier.lr: train-lm does not use classifier.lr")
        #expect(!cli.exists("o"))
    }

    /// A folder holding a run is refused unless --overwrite; a rejected run writes nothing.
    @Test func nothingWrittenIsLost() throws {
        let cli = try CLI()
        try cli.writeGenome()
        #expect(try cli.run("vocab --k 3 --stride 1 --out v.json genome.fa -q").status == 0)
        let first = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --out o")
        try #require(first.status == 0, "\(first.error)")
        let metrics = try cli.data("o/metrics.jsonl"), weights = try cli.weights("o")
        let again = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --max-steps 1 --out o")
        #expect(again.status == 1)
        #expect(again.error.hasPrefix("Error: --out: o holds another run (config.yaml, summary.json, vocab.json"))
        #expect(again.error.hasSuffix("choose another folder, or pass --overwrite to replace it"))
        #expect(try cli.data("o/metrics.jsonl") == metrics && cli.weights("o") == weights)
        let overwrite = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --max-steps 1 --out o --overwrite")
        #expect(overwrite.status == 0)
        #expect(try cli.read("o/metrics.jsonl").split(separator: "\n").count == 1)
        // Rejected after the data was read (a vocabulary that contradicts --k; a window too long):
        // still nothing written, not even the folder or vocab.json.
        #expect(try cli.run("train-lm --fasta genome.fa --vocab v.json --k 4 --out fresh -q").status == 1)
        #expect(try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --bptt 100000 --out fresh").status == 1)
        #expect(!cli.exists("fresh"))
    }

    /// Output-path problems say what path, what was wanted and why: no Foundation error codes.
    @Test func outputPathProblemsAreNamed() throws {
        let cli = try CLI()
        try cli.writeGenome()
        let file = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --out genome.fa")
        #expect(file.error == "Error: --out: cannot write the results folder at \(cli.path("genome.fa")): is a file, not a folder")
        let below = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --out genome.fa/run")
        #expect(below.error.hasSuffix("\(cli.path("genome.fa")) is a file, not a folder"))
        if FileManager.default.fileExists(atPath: "/sys/kernel") {   // Linux: /sys takes no new entries, even from root
            let sys = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --out /sys/ulmfit-run")
            #expect(sys.error.hasPrefix("Error: --out: cannot write the results folder at /sys/ulmfit-run: not allowed to write there"))
            let vocab = try cli.run("vocab --k 3 --stride 1 --out /sys/ulmfit/v.json genome.fa -q")
            #expect(vocab.error.hasPrefix("Error: cannot write the folder of the vocabulary at /sys/ulmfit: not allowed"))
        }
        for result in [file, below] { #expect(!result.error.contains("NSCocoaErrorDomain")) }
    }

    /// Values checked only later (k against the k-mer encoder, a layout against the machine)
    /// still name the config file and line; relative paths are relative to the config's folder.
    @Test func laterChecksNameTheConfigLine() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.write("configs/k40.yaml", "data:\n  fasta: ../genome.fa\n  k: 40\n")
        let k = try cli.run("train-lm --config configs/k40.yaml --out o -q")
        #expect(k.error.hasPrefix("Error: configs/k40.yaml:3: data.k: "), "\(k.error)")
        #expect(k.error.contains("40"))
        try cli.write("configs/cpus.yaml", "data:\n  fasta: ../genome.fa\nlayout:\n  cpus: core:99\n")
        let cpus = try cli.run("train-lm --config configs/cpus.yaml --out o -q")
        #expect(cpus.error.hasPrefix("Error: configs/cpus.yaml:4: layout.cpus: location \"core:99\": core:99 does not exist"))
        // ../genome.fa was found from the config's folder, not the working directory: the run got
        // as far as the layout. The same with the config given by an absolute path:
        let absolute = try cli.run(["train-lm", "--config", cli.path("configs/cpus.yaml"), "--out", "o", "-q"])
        #expect(absolute.error.contains("layout.cpus: location \"core:99\""))
        #expect(!cli.exists("o"))
    }

    /// Where a language model is expected, a classifier checkpoint is named as such (and the
    /// other way round).
    @Test func checkpointKindsAreNamed() throws {
        let cli = try CLI()
        try cli.writeDataset()
        let clas = try cli.run("train-classifier --dataset dataset.csv --k 3 --stride 1 --emb 8 --hidden 12 --layers 1 "
            + "\(CLI.tinyClassifier) --out clas")
        try #require(clas.status == 0, "\(clas.error)")
        let lm = try cli.run("train-lm --dataset dataset.csv --init-from clas --out o -q")
        #expect(lm.error.contains("is a classifier checkpoint, but data.init_from (--init-from) needs a language-model "
                                  + "checkpoint (written by `ulmfit train-lm`)"), "\(lm.error)")
        let encoder = try cli.run("train-classifier --dataset dataset.csv --encoder clas --out o -q")
        #expect(encoder.error.contains("is a classifier checkpoint, but data.encoder (--encoder) needs a language-model"))
        let evaluate = try cli.run("train-lm --dataset dataset.csv --k 3 --stride 1 --emb 8 --hidden 12 --layers 1 "
            + "--batch 4 --bptt 8 --max-steps 1 --workers 1 --out lm -q")
        try #require(evaluate.status == 0, "\(evaluate.error)")
        #expect(try cli.run("evaluate --model lm --dataset dataset.csv -q").error
                .contains("is a language-model checkpoint, but --model needs a classifier checkpoint"))
        #expect(!lm.error.contains("decoder.bias") && !cli.exists("o"))
    }

    /// One schema: every command takes the same config file (using the sections it needs), and an
    /// unknown key is an error naming file and line in every one of them.
    @Test func everyCommandReadsTheOneSchema() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.writeDataset()
        let config = """
            data: {fasta: genome.fa, dataset: dataset.csv, k: 3, stride: 1}
            model: {emb: 8, hidden: 12, layers: 1}
            training: {batch: 4, bptt: 8, max_steps: 1}
            finetune: {lr: 1e-3}
            classifier: {batch: 8, bptt: 16, max_steps: 1}
            layout: {workers: 2, oversubscribe: true}
            out: runs/all

            """
        try cli.write("all.yaml", config)
        for command in ["train-lm --config all.yaml --dataset dataset.csv --out lm", "train-classifier --config all.yaml --out c",
                        "evaluate --config all.yaml --model c", "topology --config all.yaml"] {
            let r = try cli.run(command + " -q")
            #expect(r.status == 0, "\(command): \(r.error)")
        }
        // bench step reads it too (its FMA-peak measurement is too slow for a debug build: stop at a bad option).
        #expect(try cli.run("bench step --config all.yaml --bptt 0").error
                == "Error: --bptt: expected a positive integer, got '0' (training.bptt)")
        try cli.write("bad.yaml", config + "classifier_lr: 1\n")
        for command in ["train-lm", "train-classifier", "evaluate --model c", "run", "topology",
                        "bench step --steps 1 --warmup 0"] {
            let r = try cli.run(command + " --config bad.yaml -q")
            #expect(r.error.hasPrefix("Error: bad.yaml:8: classifier_lr: unknown key 'classifier_lr'"), "\(command): \(r.error)")
        }
    }

    /// A run's config.yaml repeats it: the same resolved settings and, with the same seed and
    /// layout, bit-identical weights.
    @Test func resolvedConfigRepeatsTheRun() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.writeDataset()
        #expect(try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --clip 0.5 --out runs/one").status == 0)
        let again = try cli.run("train-lm --config runs/one/config.yaml --out runs/two -q")
        try #require(again.status == 0, "\(again.error)")
        #expect(try settings(cli.read("runs/one/config.yaml")) == settings(cli.read("runs/two/config.yaml")))
        #expect(try settings(cli.read("runs/one/config.yaml")).contains("clip: 0.5"))
        // Exact equality is right here: same seed, same layout, same order of every operation.
        #expect(try cli.weights("runs/one") == cli.weights("runs/two"))

        let c = try cli.run("train-classifier --dataset dataset.csv --encoder runs/one \(CLI.tinyClassifier) --out runs/c1")
        try #require(c.status == 0, "\(c.error)")
        #expect(try cli.run("train-classifier --config runs/c1/config.yaml --out runs/c2 -q").status == 0)
        #expect(try settings(cli.read("runs/c1/config.yaml")) == settings(cli.read("runs/c2/config.yaml")))
        #expect(try cli.weights("runs/c1") == cli.weights("runs/c2"))
        #expect(try cli.read("runs/c1/config.yaml").contains("encoder: \"../one\""))
    }

    /// A resumed classifier (dropouts scaled by drop_mult 0.5) ends with the weights of the run
    /// that was not interrupted: the resumed run rebuilds the model from the base dropouts and
    /// scales them once (scaling the checkpoint's already scaled config again would change them).
    @Test func aResumedRunScalesItsDropoutsOnce() throws {
        let cli = try CLI()
        try cli.writeDataset()
        let args = "train-classifier --dataset dataset.csv --k 3 --stride 1 --emb 8 --hidden 12 --layers 1 --stages all "
            + "--epochs 1 --batch 8 --bptt 16 --max-steps 6 --workers 2 --oversubscribe --checkpoint-every 1 --keep 0 -q"
        try #require(try cli.run(args + " --out whole").status == 0)
        try #require(try cli.run(args + " --out cut").status == 0)
        // As if stopped after step 3: later checkpoints and the summary gone.
        let folder = cli.path("cut/checkpoints")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasPrefix("step-") {
            if Int(name.dropFirst(5))! > 3 { try FileManager.default.removeItem(atPath: folder + "/" + name) }
        }
        try FileManager.default.removeItem(atPath: cli.path("cut/summary.json"))
        let resumed = try cli.run("train-classifier --resume cut -q")
        try #require(resumed.status == 0, "\(resumed.error)")
        #expect(try cli.weights("cut") == cli.weights("whole"))
        #expect(try cli.read("cut/config.yaml").contains("drop_mult: 0.5"))
    }

    /// The config's lines without the comments (which say where each value came from).
    private func settings(_ yaml: String) -> String {
        yaml.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.components(separatedBy: "  # ")[0] }.joined(separator: "\n")
    }

    /// Results on standard output, progress and logs on standard error, at the asked level.
    @Test func verboseAndQuiet() throws {
        let cli = try CLI()
        try cli.writeGenome()
        let args = "train-lm --fasta genome.fa --k 3 --stride 1 --emb 8 --hidden 12 --layers 1 --batch 4 --bptt 8 "
            + "--max-steps 1 --workers 1"
        let normal = try cli.run(args + " --out a")
        #expect(normal.stdout.hasPrefix("trained 1 steps, validation loss"))
        #expect(normal.stderr.contains("valid step 0:") && !normal.stderr.contains("BLAS:"))
        let quiet = try cli.run(args + " --out b -q")
        #expect(quiet.stderr.isEmpty && quiet.stdout.hasPrefix("trained 1 steps"))
        let verbose = try cli.run(args + " --out c --verbose")
        #expect(verbose.stderr.contains("BLAS:") && verbose.stderr.contains("memory estimate: about"))
    }

    /// Help texts show the defaults of the options types; the bench commands use the same names.
    @Test func helpShowsDefaultsAndBenchUsesTheSharedNames() throws {
        let cli = try CLI()
        let help = try cli.run("train-lm --help").stdout.replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "  ", with: "")
        #expect(help.contains("(training.lr; default: 0.002)") && help.contains("(training.batch; default: 64)"))
        #expect(help.contains("(layout.workers; default: one per physical core)"))
        let clas = try cli.run("train-classifier --help").stdout.replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "  ", with: "")
        #expect(clas.contains("(classifier.lr; default: 0.02)") && clas.contains("(classifier.drop_mult; default: 0.5)"))
        // The bench commands take --batch/--bptt/--workers like every command (checked before measuring,
        // which a debug build does too slowly for a test).
        #expect(try cli.run("bench step --batch -4").error == "Error: --batch: expected a positive integer, got '-4' (training.batch)")
        #expect(try cli.run("bench step --workers 0").error == "Error: --workers: expected a positive integer, got '0' (layout.workers)")
        #expect(try cli.run("bench step --batch-option 4").error.contains("Unknown option '--batch-option'"))
        #expect(try cli.run("bench scaling --bptt 0 --worker-counts 1,2 --out s").error.contains("--bptt: expected a positive integer"))
        #expect(try cli.run("bench scaling --workers 2 --out s").error.contains("--workers does not apply"))
        #expect(try cli.run("bench scaling --worker-counts 2,4 --out s").error.contains("must include 1"))
        #expect(!cli.exists("s"))
    }
}
