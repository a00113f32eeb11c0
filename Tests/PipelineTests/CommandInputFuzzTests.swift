import Checkpoint
import Foundation
import GenomicData
import Model
import Testing
@testable import Pipeline

/// Issue 24: the fuzz tests extended to the inputs of `predict` (FASTA and CSV records,
/// `SequenceInput`), `scan` (a genome, `GenomeScan`) and `export` (a checkpoint folder,
/// `ModelCheckpoint` and `FastaiExport`): damaged copies of valid files never crash them, every
/// rejection names its file, and no message echoes the damaged bytes at length.
@Suite final class CommandInputFuzzTests {
    static let cases = 400

    let scratch = FuzzFolder(prefix: "fuzz-cmd")

    /// Runs `body`; a thrown error must be a `DataError` naming `path` (or, with `field`, a
    /// setting), and its message stays short (no raw input echoed).
    func expectNamed(_ path: String, _ what: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch let error as DataError {
            #expect(error.file == path || error.field != nil, "\(what): \(error)")
            #expect("\(error)".utf8.count < 600, "\(what): a message of \("\(error)".utf8.count) bytes")
        } catch {
            Issue.record("\(what): not a DataError: \(error)")
        }
    }

    static let fasta = Array(">r1 first\nACGTACGTAAGGCCTT\n>r2\nacgtNNacgtacgtacgtAC\n>chr1:11-40\nGGGGCCCCAAAATTTTGGGGCCCCAAAATT\n".utf8)
    static let csv = Array("id,sequence,other\np1,ACGTTTGACA,x\n\"p2\",GGGGCCCCAA,y\np3,acgtn,z\n".utf8)

    /// predict's reader: every record handed over with where it came from, or a named error.
    @Test func predictInputs() throws {
        let mutator = ByteMutator(seed: 0x9E0)
        for n in 0 ..< Self.cases {
            let isCSV = n % 2 == 1
            let (kind, bytes) = mutator.mutate(isCSV ? Self.csv : Self.fasta, case: n)
            let path = try scratch.write(isCSV ? "case.csv" : "case.fa", bytes)
            let what = "predict case \(n) (\(kind), \(isCSV ? "CSV" : "FASTA"))"
            expectNamed(path, what) {
                for record in try SequenceInput.read(path: path) {
                    #expect(record.location.hasPrefix(path), "\(what): \(record.location)")
                    _ = record.problem(minLength: 3, maxLength: 10_000)
                }
            }
        }
    }

    /// scan's genome: a track, or a named error; nothing written for a refused genome.
    @Test func scanInputs() throws {
        let mutator = ByteMutator(seed: 0x5CA7)
        let encoder = try KmerEncoder(vocabulary: Vocabulary(kmers: ["A", "C", "G", "T"], k: 1, stride: 1))
        var options = GenomeScan.Options()
        options.window = 8
        options.step = 3
        options.top = 2
        for n in 0 ..< Self.cases {
            let (kind, bytes) = mutator.mutate(Self.fasta, case: n)
            let path = try scratch.write("genome.fa", bytes)
            let out = scratch.path("scan-\(n)")
            let what = "scan case \(n) (\(kind))"
            var refused = false
            expectNamed(path, what) {
                do {
                    let summary = try GenomeScan.run(genome: path, classifier: FirstTokenClassifier(vocabularySize: 6),
                                                     encoder: encoder, options: options, outDirectory: out,
                                                     log: { _ in }, warn: { _ in })
                    #expect(summary.records >= 1, "\(what)")
                } catch {
                    refused = true
                    throw error
                }
            }
            if refused { #expect(!FileManager.default.fileExists(atPath: out), "\(what): wrote into \(out)") }
        }
    }

    /// export's model: a damaged manifest or shard is a `CheckpointError` naming the file (or, if
    /// the damage left a valid checkpoint, the export is written with finite weights).
    @Test func exportInputs() throws {
        let config = AWDLSTMConfig(vocabSize: 6, embeddingSize: 4, hiddenSize: 5, layerCount: 2)
        let vocabulary = try Vocabulary(kmers: ["A", "C", "G", "T"], k: 1, stride: 1)
        let run = scratch.path("run")
        let layout = LanguageModelParameters(config: config).layout
        let checkpoint = try CheckpointTestSupport.writeLanguageModel(
            run: run, config: config, params: (0 ..< layout.count).map { Float($0 % 5) * 0.1 }, vocabulary: vocabulary,
            step: 1, workers: 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: checkpoint)
            .filter { $0 == "manifest.json" || $0.hasSuffix(".safetensors") }.sorted()
        let originals = try files.map { try Array(Data(contentsOf: URL(fileURLWithPath: "\(checkpoint)/\($0)"))) }
        let mutator = ByteMutator(seed: 0xE4F0)
        for n in 0 ..< Self.cases / 4 {
            let f = n % files.count
            let (kind, bytes) = mutator.mutate(originals[f], case: n)
            let target = "\(checkpoint)/\(files[f])"
            try Data(bytes).write(to: URL(fileURLWithPath: target))
            defer { try? Data(originals[f]).write(to: URL(fileURLWithPath: target)) }
            let what = "export case \(n) (\(kind), \(files[f]))"
            do {
                let model = try ModelCheckpoint.load(from: checkpoint, role: "export --model")
                let finite = model.params.allSatisfy { $0.isFinite }
                #expect(finite, "\(what)")
                let out = scratch.path("x-\(n).safetensors")
                try FastaiExport.write(model, to: out, headBias: .fold)
            } catch let error as CheckpointError {
                #expect(error.file.hasPrefix(checkpoint), "\(what): \(error)")
            } catch {
                Issue.record("\(what): not a CheckpointError: \(error)")
            }
        }
    }
}
