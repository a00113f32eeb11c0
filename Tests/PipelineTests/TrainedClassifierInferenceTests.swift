import Foundation
import Testing
import GenomicData
import Model
@testable import Pipeline

/// predict and scan through a real (tiny, untrained) classifier checkpoint: evaluate's
/// probabilities, and on the shared data, output of the right shape and order.
@Suite(.serialized) struct TrainedClassifierInferenceTests {
    /// A checkpoint of a tiny random classifier on the 5-mers of stride 2 (the human promoter
    /// set's tokenization); returns its run folder and vocabulary.
    static func checkpoint() throws -> (run: String, vocabulary: Vocabulary) {
        let kmers = (0 ..< 1024).map { n in String((0 ..< 5).map { i in Array("ACGT")[(n >> (2 * i)) & 3] }) }
        let vocabulary = try Vocabulary(kmers: kmers, k: 5, stride: 2)
        let config = AWDLSTMConfig.classifier(vocabSize: vocabulary.count, embeddingSize: 8, hiddenSize: 16, layerCount: 2)
        let parameters = ClassifierParameters(config: config, classCount: 2, headHidden: 6)
        var params = [Float](repeating: 0, count: parameters.layout.count)
        var statistics = [Float](repeating: 0, count: parameters.statisticsCount)
        params.withUnsafeMutableBufferPointer { p in
            statistics.withUnsafeMutableBufferPointer { parameters.initialize(p.baseAddress!, statistics: $0.baseAddress!, seed: 3) }
        }
        let run = CheckpointTestSupport.temporaryRun()
        try CheckpointTestSupport.writeClassifier(run: run, parameters: parameters, params: params, statistics: statistics,
                                                  vocabulary: vocabulary, step: 1)
        return (run, vocabulary)
    }

    /// The interface predict and scan use (`ClassifierInference`, forward only) gives evaluate's
    /// probabilities (the trainer's evaluation path). Two engines: their matrix products have
    /// other shapes (whole batches per worker vs the batch split over workers, longest-first
    /// batching) and so other summation orders, which BLAS kernels round differently (seen:
    /// 0.58982134 vs 0.5898214 under OPENBLAS_CORETYPE=Haswell). A float32 product of depth
    /// n <= 128 has relative error ~n x 6e-8 per layer: 1e-5 in a probability covers three
    /// layers and the head with margin, and a wrong weight or mask moves it by far more.
    @Test func sequenceClassifierGivesEvaluatesProbabilities() throws {
        let (run, vocabulary) = try Self.checkpoint()
        let checkpoint = try ClassifierCheckpoint.load(from: run)
        let encoder = try KmerEncoder(vocabulary: vocabulary)
        var state: UInt64 = 7
        let sequences: [[Int32]] = (0 ..< 70).map { i in
            encoder.encode((0 ..< (20 + i % 9)).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Array("ACGT".utf8)[Int(state >> 62)]
            })
        }
        let pool = try CheckpointTestSupport.pool()
        let evaluation = try checkpoint.evaluate(sequences: sequences, labels: sequences.map { _ in 0 }, pool: pool, batchSize: 16)
        let classifier = try checkpoint.sequenceClassifier(pool: pool, maxLength: sequences.map(\.count).max()!, batchSize: 16)
        let probabilities = try classifier.probabilities(sequences)
        #expect(probabilities.count == evaluation.probabilities.count)
        for (p, q) in zip(probabilities, evaluation.probabilities) {
            #expect(p.count == q.count)
            #expect(zip(p, q).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(p) vs \(q)")
        }
        #expect(classifier.classCount == 2)
    }

    /// Scan of the human chr22 chunk (one record `22:20000001-21000000`, 10% N) with windows of 251
    /// every 4,999 bases: every window accounted for (scored or skipped over N), intervals on
    /// chromosome 22's coordinates, sorted, probabilities in [0, 1]; top.bed inside the chunk.
    @Test(.enabled(if: SharedData.runnable("genomes/human_chr22_20-21M.fa.gz")))
    func scanOfTheHumanChunk() throws {
        let (run, vocabulary) = try Self.checkpoint()
        let checkpoint = try ClassifierCheckpoint.load(from: run)
        let encoder = try KmerEncoder(vocabulary: vocabulary)
        let pool = try CheckpointTestSupport.pool()
        var options = GenomeScan.Options()
        options.step = 4999
        options.top = 10
        let classifier = try checkpoint.sequenceClassifier(pool: pool, maxLength: 124, batchSize: 64)
        let out = CheckpointTestSupport.temporaryRun()
        let summary = try GenomeScan.run(genome: SharedData.path("genomes/human_chr22_20-21M.fa.gz"), classifier: classifier,
                                         encoder: encoder, options: options, outDirectory: out, log: { _ in })
        #expect(summary.records == 1 && summary.bases == 1_000_000)
        #expect(summary.windows + summary.windowsSkippedNonACGT == (1_000_000 - 251) / 4999 + 1)
        #expect(summary.windowsSkippedNonACGT > 0, "the chunk's N runs")
        let lines = try String(contentsOfFile: out + "/scan.bedGraph", encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.hasPrefix("track type=bedGraph") == true && lines.count == summary.windows + 1)
        let rows = lines.dropFirst().map { $0.split(separator: "\t") }
        let starts = rows.map { Int($0[1])! }
        #expect(rows.allSatisfy { $0.count == 4 && $0[0] == "22" && Int($0[2])! - Int($0[1])! == 251
                                   && (0 ... 1).contains(Double($0[3])!) })
        #expect(starts == starts.sorted() && Set(starts).count == starts.count)
        #expect(starts.allSatisfy { $0 >= 20_000_000 && $0 + 251 <= 21_000_000 && ($0 - 20_000_000) % 4999 == 0 })
        let top = try String(contentsOfFile: out + "/top.bed", encoding: .utf8).split(separator: "\n")
        #expect(top.count == 10 && top.allSatisfy { $0.split(separator: "\t").count == 6 && $0.hasPrefix("22\t") })
    }

    /// predict on the human promoter CSV: every record read; one row per valid record in file
    /// order, probabilities that sum to 1 (the subset has one sequence with N: listed, not
    /// classified).
    @Test(.enabled(if: SharedData.runnable("human_promoters/cnnprom_human_nontata_9034.csv.gz")))
    func predictOnTheHumanPromoters() throws {
        let (run, vocabulary) = try Self.checkpoint()
        let checkpoint = try ClassifierCheckpoint.load(from: run)
        let records = try SequenceInput.read(path: SharedData.path("human_promoters/cnnprom_human_nontata_9034.csv.gz"))
        #expect(records.count == 9034)
        // The first 200 records and the one with N: the debug build's LSTM takes ~20 ms a sequence.
        let sample = records.enumerated().filter { $0.offset < 200 || $0.element.sequence.contains(UInt8(ascii: "N")) }
            .map(\.element)
        #expect(sample.count == 201)
        var rows: [RecordPrediction] = []
        let pool = try CheckpointTestSupport.pool()
        let invalid = try RecordPrediction.predict(
            records: sample, encoder: KmerEncoder(vocabulary: vocabulary), maxBases: 10_000, onInvalid: .skip,
            makeClassifier: { try checkpoint.sequenceClassifier(pool: pool, maxLength: $0, batchSize: 256) },
            emit: { rows += $0 })
        #expect(invalid.count == 1 && invalid[0].reason.hasPrefix("holds 'N'"))
        let invalidIDs = Set(invalid.map(\.record.id))
        #expect(rows.map(\.id) == sample.map(\.id).filter { !invalidIDs.contains($0) })
        #expect(rows.allSatisfy { $0.length == 251 && abs($0.probabilities.reduce(0, +) - 1) < 1e-5 })
    }
}
