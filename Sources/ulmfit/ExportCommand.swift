import ArgumentParser
import Foundation
import OutputFiles
import Parallel
import Pipeline

/// `ulmfit export`: a trained model as one safetensors file with fastai 2's state-dict names,
/// for PyTorch/fastai.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a language model or classifier to one safetensors file with fastai 2's state-dict names.",
        discussion: """
            Writes --out (safetensors: fastai 2's names and layouts, e.g. 0.encoder.weight, \
            0.rnns.0.weight_hh_l0_raw, 1.decoder.bias; classifier: 0.module.* and 1.layers.*) and \
            the vocabulary as fastai's vocab list beside it (X.vocab.json for X.safetensors). The \
            header's metadata says how to build the model in fastai (fastai_config, pad_idx, n_class, \
            lin_ftrs, ps). Our classifier head keeps a Linear bias after each BatchNorm (fastai 1's \
            bn_drop_lin), fastai 2's LinBnDrop has none: --head-bias fold (default) folds it into \
            the BatchNorm bias (exact in evaluation; loads into stock fastai 2), keep writes it as \
            1.layers.N.2.bias. --sample N also writes X.sample.json: N token sequences and this \
            model's outputs on them (LM log-probabilities, classifier probabilities) to check a \
            loaded model against (benchmarks/fastai_export_check.py does).
            """)

    @Option(help: "A run folder (train-lm or train-classifier) or one of its checkpoints.") var model: String
    @Option(help: "The safetensors file to write.") var out: String
    @Option(help: "Classifier head biases: fold (into the BatchNorm bias; stock fastai 2) or keep.")
    var headBias: FastaiExport.HeadBias = .fold
    @Option(parsing: .unconditional, help: "Also write this many sample sequences and the model's outputs on them (X.sample.json).",
            transform: IntegerOption.within(0 ... 64))
    var sample = 0

    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        guard sample >= 0, sample <= 64 else { throw ValidationError("--sample must be between 0 and 64, got \(sample)") }
        guard !out.hasSuffix("/"), !FileManager.default.fileExists(atPath: out) || !isDirectory(out) else {
            throw ValidationError("--out \(out) is a folder; give the path of the .safetensors file to write")
        }
    }

    func run() throws {
        var files = InputFiles()
        files.addCheckpoints(of: model, role: "--model")
        try files.checkOutput(out, role: "--out")
        try files.checkOutput(FastaiExport.vocabularyPath(for: out), role: "--out's vocabulary")
        if sample > 0 { try files.checkOutput(samplePath, role: "--out's samples") }
        let checkpoint = try ModelCheckpoint.load(from: model, role: "export --model")   // non-finite weights refused
        verbosity.logger.info("--model: \(checkpoint.resolution)")
        // The samples are computed before anything is written: a failure leaves no file behind.
        var samples: [String: Any]?
        if sample > 0 {
            let topology = try Topology.machine()
            let pool = try WorkerPool(layout: WorkerLayout(spec: LayoutSpec(workers: 1, oversubscribe: true), topology: topology),
                                      topology: topology, bind: false)
            samples = try ExportSample.make(checkpoint, count: sample, length: 24, pool: pool)
        }
        try FastaiExport.write(checkpoint, to: out, headBias: headBias)
        print("wrote \(out) (\(checkpoint.kind.rawValue), step \(checkpoint.step)) and \(FastaiExport.vocabularyPath(for: out))")
        guard let samples else { return }
        try OutputFile.write(try JSONSerialization.data(withJSONObject: samples, options: [.sortedKeys]), to: samplePath,
                             wanted: "the samples (--sample)")
        print("wrote \(samplePath) (\(sample) sequences and this model's outputs on them)")
    }

    /// X.sample.json beside X.safetensors.
    private var samplePath: String {
        (out.hasSuffix(".safetensors") ? String(out.dropLast(".safetensors".count)) : out) + ".sample.json"
    }

    private func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}

extension FastaiExport.HeadBias: ExpressibleByArgument {}
