import Checkpoint
import Foundation
import Testing

/// Transfer integrity, as a user runs it: `train-lm`, then `train-classifier --encoder LM`. The
/// encoder the classifier trains from is bit for bit the language model's (the embedding and
/// every LSTM weight and bias) and its vocabulary is the LM's. With `--stages head` the encoder
/// stays frozen for the whole run, so the classifier's final checkpoint must still hold the LM's
/// encoder exactly: any copy, re-sharding, vocabulary re-mapping or stray update on the way shows.
@Suite(.serialized) struct TransferIntegrityTests {
    /// The encoder tensors (`encoder.weight`, `rnns.*`) of a run's newest checkpoint, by name.
    static func encoderTensors(_ run: String) throws -> [String: [Float]] {
        let checkpoint = try CheckpointDirectory.resolve(run).checkpoint
        var out: [String: [Float]] = [:]
        for tensor in checkpoint.manifest.parameters.tensors
        where tensor.name == "encoder.weight" || tensor.name.hasPrefix("rnns.") {
            let count = tensor.shape.reduce(1, *)
            out[tensor.name] = try checkpoint.assemble("params", range: tensor.offset ..< tensor.offset + count)
        }
        return out
    }

    @Test func theClassifierStartsFromTheLanguageModelsEncoderAndVocabulary() throws {
        let cli = try CLI()
        try cli.writeGenome()
        try cli.writeDataset()
        let lm = try cli.run("train-lm --fasta genome.fa \(CLI.tinyLM) --out lm")
        try #require(lm.status == 0, "train-lm failed: \(lm.error)")
        // 3 workers for the classifier, 2 for the LM: the encoder is re-sharded on the way.
        let probe = try cli.run("train-classifier --dataset dataset.csv --encoder lm --stages head --epochs 1 "
            + "--batch 8 --bptt 16 --max-steps 3 --workers 3 --oversubscribe -q --out probe")
        try #require(probe.status == 0, "train-classifier failed: \(probe.error)")

        let lmEncoder = try Self.encoderTensors(cli.path("lm")), classifierEncoder = try Self.encoderTensors(cli.path("probe"))
        // 2 layers: embedding + 4 tensors each.
        #expect(lmEncoder.count == 9 && Set(lmEncoder.keys) == Set(classifierEncoder.keys))
        for (name, values) in lmEncoder {
            #expect(classifierEncoder[name] == values, "\(name) is not the language model's")
        }
        let lmManifest = try CheckpointDirectory.resolve(cli.path("lm")).checkpoint.manifest
        let classifierManifest = try CheckpointDirectory.resolve(cli.path("probe")).checkpoint.manifest
        #expect(classifierManifest.vocabulary == lmManifest.vocabulary, "the classifier's vocabulary is the LM's")
        #expect(try cli.data("probe/vocab.json") == cli.data("lm/vocab.json"))
        #expect(classifierManifest.step == 3, "the head trained")

        // The control: the full ULMFiT recipe trains the encoder in its later stages, and the test sees it.
        let ulmfit = try cli.run("train-classifier --dataset dataset.csv --encoder lm --epochs 1 "
            + "--batch 8 --bptt 16 --max-steps 2 --workers 2 --oversubscribe -q --out ulmfit")
        try #require(ulmfit.status == 0, "train-classifier failed: \(ulmfit.error)")
        let trained = try Self.encoderTensors(cli.path("ulmfit"))
        #expect(trained["rnns.0.weight_hh"] != lmEncoder["rnns.0.weight_hh"], "the unfrozen stages update the encoder")
    }
}
