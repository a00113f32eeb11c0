import Foundation
import Testing

/// The settings the reproduction added to the schema, as a user gives them: the language model's
/// corpus of a prepared dataset (`data.lm_splits`) and the classifier's AR/TAR
/// (`classifier.alpha`, `classifier.beta`).
@Suite struct ReproductionSettingsTests {
    @Test func languageModelSplitsOfADataset() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.writeDataset()
        let genome = try cli.run("train-lm --fasta genome.fa --lm-splits train+valid --out o -q")
        #expect(genome.error.contains("data.fasta (--fasta) is a genome, not a prepared dataset with splits, so "
                                      + "data.lm_splits (--lm-splits) cannot apply"), "\(genome.error)")
        let fraction = try cli.run("train-lm --dataset dataset.csv --valid-fraction 0.2 --out o -q")
        #expect(fraction.error.contains("is split into train and valid already, so data.valid_fraction (--valid-fraction)"),
                "\(fraction.error)")
        let bad = try cli.run("train-lm --dataset dataset.csv --lm-splits test --out o -q")
        #expect(bad.error == "Error: --lm-splits: expected one of train, train+valid, got 'test' (data.lm_splits)")
        #expect(!cli.exists("o"))

        // train+valid: the held-out share is data.valid_fraction; both are recorded.
        let run = try cli.run("train-lm --dataset dataset.csv --lm-splits train+valid --valid-fraction 0.25 \(CLI.tinyLM) "
                              + "--out tv")
        try #require(run.status == 0, "\(run.error)")
        let config = try cli.read("tv/config.yaml")
        #expect(config.contains("lm_splits: train+valid") && config.contains("valid_fraction: 0.25"), "\(config)")
        #expect(try cli.run("train-lm --config tv/config.yaml --out tv2 -q").status == 0)
        #expect(try cli.weights("tv") == cli.weights("tv2"), "the recorded config repeats the run")
        let plain = try cli.run("train-lm --dataset dataset.csv \(CLI.tinyLM) --out t")
        try #require(plain.status == 0, "\(plain.error)")
        #expect(try cli.weights("t") != cli.weights("tv"), "another corpus, other weights")
    }

    @Test func classifierActivationRegularization() throws {
        let cli = try CLI()
        try cli.writeDataset()
        let base = "train-classifier --dataset dataset.csv --k 3 --stride 1 --emb 8 --hidden 12 --layers 2 \(CLI.tinyClassifier)"
        #expect(try cli.run(base + " --alpha -1 --out o").error.contains("classifier.alpha"))
        try #require(try cli.run(base + " --out on").status == 0)
        try #require(try cli.run(base + " --alpha 0 --beta 0 --out off").status == 0)
        let on = try cli.read("on/config.yaml"), off = try cli.read("off/config.yaml")
        #expect(on.contains("alpha: 2.0") && on.contains("beta: 1.0"), "fastai's defaults recorded: \(on)")
        #expect(off.contains("alpha: 0.0") && off.contains("beta: 0.0"), "\(off)")
        #expect(try cli.weights("on") != cli.weights("off"), "AR/TAR change the encoder's update")
        #expect(try cli.read("on/metrics.csv").split(separator: "\n").first?.contains(",ar,tar,") == true)
    }
}
