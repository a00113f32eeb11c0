import Foundation
import Testing

/// Issue 24: every command as careful as training. Each test meets one class of the issue as a
/// user would, through the built binary (`CLI`), and fails on the binary before the issue.
@Suite(.serialized) struct CarefulCommandsTests {
    /// Class 4: the same input given twice is refused however it is spelled (relative and
    /// absolute, through a symbolic link), before anything is read or written.
    @Test func theSameInputUnderTwoNamesIsRefused() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try FileManager.default.createSymbolicLink(atPath: cli.path("link.fa"), withDestinationPath: cli.path("genome.fa"))
        for second in ["genome.fa", cli.path("genome.fa"), "link.fa", "./genome.fa"] {
            let result = try cli.run(["train-lm", "--fasta", "genome.fa", "--fasta", second, "--out", "o"]
                + CLI.tinyLM.split(separator: " ").map(String.init))
            #expect(result.status == 1)
            let named = second == "link.fa" ? "data.fasta \(cli.path("link.fa")) is the same file as data.fasta \(cli.path("genome.fa"))"
                : "data.fasta \(cli.path("genome.fa")) is given twice"
            #expect(result.error.hasPrefix("Error: --fasta: \(named): each input is read once"), "\(result.error)")
            #expect(!cli.exists("o"))
        }
        let vocab = try cli.run("vocab --k 3 --stride 1 --out v.json genome.fa link.fa -q")
        #expect(vocab.status != 0 && vocab.error.contains("Error: link.fa is the same file as genome.fa"), "\(vocab.error)")
        #expect(!cli.exists("v.json"))
        try cli.write("p.fa", ">a\nACGTACGTAC\n>b\nACGTTTGTAC\n")
        try FileManager.default.createSymbolicLink(atPath: cli.path("p2.fa"), withDestinationPath: cli.path("p.fa"))
        let prepare = try cli.run("prepare --positive p.fa --negative p2.fa --seed 1 --out d -q")
        #expect(prepare.status != 0 && prepare.error.contains("--negative p2.fa is the same file as --positive p.fa"))
        #expect(!cli.exists("d"))
    }

    /// Class 5: no command writes over a file it reads or into a checkpoint.
    @Test func anOutputThatIsAnInputIsRefused() throws {
        let cli = try CLI()
        try cli.writeGenome()
        let genome = try cli.data("genome.fa")
        let vocab = try cli.run("vocab --k 3 --stride 1 --out genome.fa genome.fa -q")
        #expect(vocab.status != 0 && vocab.error.contains("--out genome.fa is an input"), "\(vocab.error)")
        let viaPath = try cli.run(["vocab", "--k", "3", "--stride", "1", "--out", cli.path("genome.fa"), "genome.fa", "-q"])
        #expect(viaPath.status != 0 && viaPath.error.contains("is an input"), "\(viaPath.error)")
        #expect(try cli.data("genome.fa") == genome)

        let lm = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --out lm")
        try #require(lm.status == 0, "\(lm.error)")
        let checkpoints = cli.path("lm/checkpoints")
        let newest = try #require(try FileManager.default.contentsOfDirectory(atPath: checkpoints)
            .filter { $0.hasPrefix("step-") }.sorted().last)
        let shard = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(checkpoints)/\(newest)")
            .first { $0.hasSuffix(".safetensors") })
        let weights = try cli.weights("lm")
        let export = try cli.run("export --model lm --out lm/checkpoints/\(newest)/\(shard)")
        #expect(export.status != 0 && export.error.contains("is the input --model"), "\(export.error)")
        let inside = try cli.run("export --model lm --out lm/checkpoints/\(newest)/other.safetensors")
        #expect(inside.status != 0 && inside.error.contains("lies inside the checkpoint"), "\(inside.error)")
        #expect(!cli.exists("lm/checkpoints/\(newest)/other.safetensors"))
        #expect(try cli.weights("lm") == weights)
    }

    /// Class 7: two processes start into one run folder: exactly one runs, the other exits
    /// non-zero naming the first's pid (before touching the folder), and the folder holds one
    /// consistent run (summary.json and every metrics row of its steps).
    @Test func twoWritersOfOneRunFolder() throws {
        let scratch = try ResumeProcessTests.Scratch()
        let args = ResumeProcessTests.trainArgs(out: "o", extra: ["--epochs", "3", "--keep", "0", "--overwrite"])
        let first = try scratch.start(args, name: "first")
        try #require(scratch.waitForCheckpoint(of: "o", while: first), "the first run ended before the second started")
        let second = try scratch.run(args, name: "second")
        let resumed = try scratch.run(["train-lm", "--resume", "o"], name: "resumed")
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        for (status, stderr) in [second, resumed] {
            #expect(status == 1)
            #expect(stderr.contains("o is being written by another ulmfit process (pid \(first.processIdentifier))"), "\(stderr)")
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(scratch.folder)/o/summary.json")))
        let steps = try #require((summary as? [String: Any])?["steps"] as? Int)
        let rows = try String(contentsOfFile: "\(scratch.folder)/o/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == steps && steps > 0)
        // Once the writer is gone, the folder is free again (the kernel released the lock).
        #expect(try scratch.run(args + ["--max-steps", "1"], name: "third").status == 0)
    }

    /// Class 1: a negative number is a number to every command, refused with its range (not
    /// "Missing value"); a number past Int.max is out of range.
    @Test func negativeNumbersAreReadAsNumbers() throws {
        let cli = try CLI()
        for (line, message) in [("tokenize --k -1 ACGT", "must be positive, got -1"),
                                ("vocab --k 3 --stride 1 --min-frequency -1 --out v.json g.fa", "must be positive, got -1"),
                                ("predict --model m --batch -1 in.fa", "must be positive, got -1"),
                                ("scan --model m --step -1 --out s g.fa", "must be positive, got -1"),
                                ("scan --model m --top -3 --out s g.fa", "must be 0 or more, got -3"),
                                ("export --model m --out x.safetensors --sample -2", "must be between 0 and 64, got -2"),
                                ("tokenize --k 99999999999999999999 ACGT", "99999999999999999999 is out of range")] {
            let result = try cli.run(line)
            #expect(result.status != 0)
            #expect(result.error.contains(message) && !result.error.contains("Missing value"), "\(line): \(result.error)")
        }
    }

    /// Class 3: an epoch count whose steps overflow is refused before anything is written (it
    /// trapped, and train-classifier left config.yaml and vocab.json behind).
    @Test func anEpochCountThatOverflowsIsRefused() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.writeDataset()
        // With max_steps to end it, any epoch count runs (the count saturates).
        let bounded = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --epochs 9223372036854775807 --out bounded")
        #expect(bounded.status == 0, "\(bounded.error)")
        let unbounded = try cli.run(["train-lm", "--fasta", "genome.fa", "--k", "3", "--stride", "1", "--emb", "8", "--hidden", "12",
                                     "--layers", "2", "--batch", "4", "--bptt", "8", "--epochs", "9223372036854775807", "--out", "lm", "-q"])
        #expect(unbounded.status == 1 && unbounded.error.contains("training.epochs")
                && unbounded.error.contains("more steps than can be counted"), "\(unbounded.error)")
        #expect(!cli.exists("lm"))
        let classifier = try cli.run("train-classifier --dataset dataset.csv --k 3 --stride 1 --emb 8 --hidden 12 --layers 2 "
            + "--batch 8 --workers 2 --oversubscribe -q --epochs 9223372036854775807 --out c")
        #expect(classifier.status == 1 && classifier.error.contains("classifier.epochs"), "\(classifier.error)")
        #expect(!cli.exists("c"))
    }

    /// Class 13: messages that say what is so.
    @Test func messagesSayWhatIsSo() throws {
        let cli = try CLI()
        let numa = try cli.run("topology --cpus numa:5")
        #expect(numa.status != 0 && numa.error.contains("NUMA node") && !numa.error.contains("core (numa"), "\(numa.error)")
        for command in ["train-lm", "train-classifier", "run"] {
            let help = try cli.run("\(command) --help")
            #expect(!help.stdout.contains("model/") && help.stdout.contains("checkpoint"), "\(command) --help")
        }
        let export = try cli.run("export --help")
        #expect(export.stdout.contains("--quiet") && export.stdout.contains("--verbose"))
        // A binary file given as input: named as such, its bytes never echoed.
        var bytes = [UInt8](repeating: 0, count: 4096)
        for i in bytes.indices { bytes[i] = UInt8((i * 151 + 7) % 256) }
        bytes[0] = 0x7F   // not '>' and not text: read as a CSV whose header is not text
        try Data(bytes).write(to: URL(fileURLWithPath: cli.path("binary.bin")))
        let binary = try cli.run("prepare --csv binary.bin --seed 1 --out d")
        #expect(binary.status != 0 && binary.error.contains("bytes that are not text") && binary.error.count < 400,
                "\(binary.error)")
    }

    /// A classifier trained for one step by `train-classifier` (k = 3) in `cli`'s folder `c`.
    private func trainClassifier(_ cli: CLI) throws {
        try cli.writeDataset()
        let trained = try cli.run("train-classifier --dataset dataset.csv --k 3 --stride 1 --emb 8 --hidden 12 --layers 2 "
            + "\(CLI.tinyClassifier) --out c")
        try #require(trained.status == 0, "\(trained.error)")
    }

    /// Class 6: earlier results are not replaced without a word: `prepare` and `scan` refuse a
    /// folder holding their results unless --overwrite; an --overwrite run that fails before its
    /// first checkpoint leaves the previous run as it was.
    @Test func earlierResultsAreKept() throws {
        let cli = try CLI()
        try trainClassifier(cli)
        let again = try cli.run("prepare --csv labelled.csv --seed 2 --out . -q")
        #expect(again.status != 0 && again.error.contains("holds a prepared dataset (dataset.csv)")
                && again.error.contains("--overwrite"), "\(again.error)")
        #expect(try cli.run("prepare --csv labelled.csv --seed 2 --out . --overwrite -q").status == 0)
        try cli.write("genome.fa", ">chrZ\n" + String(repeating: "ACGTTGCAGATTACA", count: 6) + "\n")
        let scan = "scan --model c --window 12 --step 4 --out s genome.fa --workers 2 --oversubscribe -q"
        #expect(try cli.run(scan).status == 0)
        let track = try cli.data("s/scan.bedGraph")
        let second = try cli.run(scan)
        #expect(second.status != 0 && second.error.contains("holds an earlier scan (scan.bedGraph, top.bed, scan.json)"),
                "\(second.error)")
        #expect(try cli.data("s/scan.bedGraph") == track)
        #expect(try cli.run(scan + " --overwrite").status == 0)

        try cli.writeGenome()
        #expect(try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --out lm").status == 0)
        let weights = try cli.weights("lm"), summary = try cli.data("lm/summary.json")
        let diverged = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --lr 1e30 --out lm --overwrite")
        #expect(diverged.status == 1)
        #expect(diverged.error.contains("was put back"), "\(diverged.error)")
        #expect(try cli.weights("lm") == weights && cli.data("lm/summary.json") == summary)
        #expect(!cli.exists("lm/.replaced"))
        // A run that succeeds replaces it, and nothing of the old run stays beside it.
        #expect(try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --max-steps 1 --out lm --overwrite").status == 0)
        #expect(try cli.read("lm/metrics.jsonl").split(separator: "\n").count == 1)
        #expect(!cli.exists("lm/.replaced"))
    }

    /// Class 2: inference sizes its buffers to the records there are, and sizes past the memory
    /// are refused up front with the numbers (they ended in "Fatal error: out of memory").
    @Test func inferenceAndBenchSizesAreCheckedAgainstTheMemory() throws {
        let cli = try CLI()
        try trainClassifier(cli)
        try cli.write("in.fa", ">r1\nACGTACGTAAGG\n>r2\nGGGGCCCCAAAATTTT\n")
        let predict = try cli.run("predict --model c in.fa --batch 100000000 --workers 2 --oversubscribe -q")
        #expect(predict.status == 0 && predict.stdout.split(separator: "\n").count == 3, "\(predict.error)")
        // (Class 5 for predict: its --out may not be its input.)
        let input = try cli.data("in.fa")
        let over = try cli.run("predict --model c in.fa --out in.fa --workers 2 --oversubscribe -q")
        #expect(over.status != 0 && over.error.contains("--out in.fa is an input"), "\(over.error)")
        #expect(try cli.data("in.fa") == input)
        try cli.write("genome.fa", ">chrZ\n" + String(repeating: "ACGTTGCAGATTACA", count: 6) + "\n")
        let scan = try cli.run("scan --model c --window 50000000 --out s genome.fa --workers 2 --oversubscribe")
        #expect(scan.status != 0 && scan.error.contains("are available: lower --batch (256) or --window (50000000 bases"),
                "\(scan.error)")
        #expect(!cli.exists("s"))
        let bench = try cli.run("bench step --preset tiny --batch 10000000 --workers 1 --oversubscribe")
        #expect(bench.status != 0 && bench.error.contains("are available: lower --batch (10000000)"), "\(bench.error)")
        let benchPredict = try cli.run("bench predict --preset tiny --batch 10000000 --no-scan --workers 1 --oversubscribe")
        #expect(benchPredict.status != 0 && benchPredict.error.contains("are available: lower --batch (10000000)"),
                "\(benchPredict.error)")
    }

    /// Classes 8 and 9: prepare says what is wrong in words, with the line, and leaves nothing behind.
    @Test func prepareSaysWhyRowsAndWritesFail() throws {
        let cli = try CLI()
        try cli.write("labelled.csv", "sequence,class\nACGTACGTAC,0\nGGGGCCCCAA,1\nACGTNNACGT,1\n\"ACGTTT,0\n")
        let quote = try cli.run("prepare --csv labelled.csv --seed 1 --out d")
        #expect(quote.status != 0 && quote.error.contains("labelled.csv:5") && quote.error.contains("opens a quote that does not close"),
                "\(quote.error)")
        try cli.write("labelled.csv", "sequence,class\nACGTACGTAC,0\nGGGGCCCCAA,1\nACGTNNACGT,1\n")
        let column = try cli.run("prepare --csv labelled.csv --sequence-column class --label-column class --seed 1 --out d")
        #expect(column.status != 0 && column.error.contains("no usable row: of 3 rows, 3 have a 'class' with characters other "
                + "than A/C/G/T (first: line 2, '0')"), "\(column.error)")
        #expect(!cli.exists("d"))
        try cli.write("file", "x")
        let file = try cli.run("prepare --csv labelled.csv --seed 1 --out file/d")
        #expect(file.status != 0 && file.error.contains("is a file, not a folder") && !file.error.contains("NSCocoaErrorDomain"),
                "\(file.error)")
        if FileManager.default.fileExists(atPath: "/sys/kernel") {   // Linux: /sys takes no new entries, even from root
            let sys = try cli.run("prepare --csv labelled.csv --seed 1 --out /sys/ulmfit-prepare")
            #expect(sys.status != 0 && sys.error.contains("not allowed to write there") && !sys.error.contains("permission."),
                    "\(sys.error)")
        }
    }

    /// Classes 10 and 11: scan checks its output and --plot before scoring, takes samtools
    /// regions of one chromosome, warns about a region header that does not match its record,
    /// and refuses a genome it cannot scan; train-lm names an input that gives no sequence.
    @Test func scanAndTrainCheckBeforeTheWork() throws {
        let cli = try CLI()
        try trainClassifier(cli)
        let body = String(repeating: "ACGTTGCAGATTACA", count: 6)
        try cli.write("genome.fa", ">chr1:1001-1090\n\(body)\n>chr1:2001-2090\n\(body)\n")
        let regions = try cli.run("scan --model c --window 12 --step 4 --out s genome.fa --workers 2 --oversubscribe")
        #expect(regions.status == 0, "\(regions.error)")
        #expect(try cli.read("s/scan.bedGraph").contains("chr1\t2"))
        try cli.write("short.fa", ">chr1:1001-1100\n\(body)\n")
        let short = try cli.run("scan --model c --window 12 --step 4 --out s2 short.fa --workers 2 --oversubscribe")
        #expect(short.status == 0 && short.error.contains("warning") && short.error.contains("region is 100 bases long"),
                "\(short.error)")
        let plot = try cli.run("scan --model c --window 12 --plot chr1 --out s3 genome.fa --workers 2 --oversubscribe")
        #expect(plot.status != 0 && plot.error.contains("is not a region chr:start-end") && !plot.error.contains("windows/s"),
                "\(plot.error)")
        #expect(!cli.exists("s3"))
        let outFile = try cli.run("scan --model c --window 12 --out genome.fa/x genome.fa --workers 2 --oversubscribe")
        #expect(outFile.status != 0 && outFile.error.contains("is a file, not a folder"), "\(outFile.error)")
        try cli.write("header.fa", ">only a header\n")
        let empty = try cli.run("scan --model c --window 12 --out s4 header.fa --workers 2 --oversubscribe")
        #expect(empty.status != 0 && empty.error.contains("holds no bases"), "\(empty.error)")
        let long = try cli.run("scan --model c --window 500 --out s5 genome.fa --workers 2 --oversubscribe")
        #expect(long.status != 0 && long.error.contains("every record is shorter than the window of 500 bases"), "\(long.error)")

        try cli.writeGenome()
        try cli.write("n.fa", ">n\nNNNNNNNNNNNNNNNNNNNN\n")
        for inputs in ["--fasta header.fa", "--fasta genome.fa --fasta header.fa", "--fasta n.fa"] {
            let result = try cli.run("train-lm \(inputs) \(CLI.tinyLM) --out lm")
            let file = inputs.split(separator: " ").last!
            #expect(result.status == 1 && result.error.contains("\(file)") && result.error.contains("no usable sequence"),
                    "\(inputs): \(result.error)")
        }
        let noValid = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --valid-fraction 0 --eval-every 1 --out lm")
        #expect(noValid.status == 1 && noValid.error.contains("needs validation data"), "\(noValid.error)")
        #expect(!cli.exists("lm"))
    }
}
