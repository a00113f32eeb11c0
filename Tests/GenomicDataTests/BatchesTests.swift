import SeededRandom
import Testing
@testable import GenomicData

@Suite struct LanguageModelBatchesTests {
    /// Tokens 0..<23 in three documents: total 23, B = 3 -> L = (23 - 1) / 3 = 7.
    static let documents: [[Int32]] = [Array(0..<5), Array(5..<15), Array(15..<23)]

    @Test func streamLayoutAndShiftByOne() throws {
        let batches = try LanguageModelBatches(documents: Self.documents, batchSize: 3, bptt: 3)
        #expect(batches.streamLength == 7)
        #expect(batches.windowCount == 3)
        // Stream b holds tokens b*7 ..< b*7+7; window 0 covers times 0..<3.
        let w0 = batches.window(0)
        #expect(w0.seqLen == 3)
        #expect(w0.batchSize == 3)
        #expect(w0.inputs == [0, 7, 14, 1, 8, 15, 2, 9, 16])
        #expect(w0.targets == [1, 8, 15, 2, 9, 16, 3, 10, 17])
        // Window 1 continues every stream where window 0 ended.
        #expect(batches.window(1).inputs == [3, 10, 17, 4, 11, 18, 5, 12, 19])
        // The last window is shorter (7 = 3 + 3 + 1); the last target is token 21.
        let last = batches.window(2)
        #expect(last.seqLen == 1)
        #expect(last.inputs == [6, 13, 20])
        #expect(last.targets == [7, 14, 21])
    }

    @Test func workerSubRangeEqualsColumnsOfTheFullWindow() throws {
        let documents = (0..<7).map { d in (0..<(13 + d * 5)).map { Int32(d * 1000 + $0) } }
        let batches = try LanguageModelBatches(documents: documents, batchSize: 5, bptt: 4)
        for i in 0..<batches.windowCount {
            let full = batches.window(i)
            for streams in [0..<2, 2..<5, 4..<5, 0..<5] {
                let part = batches.window(i, streams: streams)
                #expect(part.seqLen == full.seqLen)
                #expect(part.batchSize == streams.count)
                for t in 0..<full.seqLen {
                    for (c, b) in streams.enumerated() {
                        #expect(part.inputs[t * streams.count + c] == full.inputs[t * 5 + b])
                        #expect(part.targets[t * streams.count + c] == full.targets[t * 5 + b])
                    }
                }
            }
        }
    }

    @Test func epochShuffleReordersDocumentsReproducibly() throws {
        let documents: [[Int32]] = (0..<6).map { [Int32($0 * 10), Int32($0 * 10 + 1)] }
        let a = try LanguageModelBatches(documents: documents, batchSize: 1, bptt: 100, shuffle: (seed: 5, epoch: 2))
        let b = try LanguageModelBatches(documents: documents, batchSize: 1, bptt: 100, shuffle: (seed: 5, epoch: 2))
        var random = CounterRandom(seed: 5, RandomPurpose.epochShuffle.rawValue, 2)
        let order = SeededShuffle.permutation(count: 6, random: &random)
        let expected = order.flatMap { documents[$0] }
        #expect(a.window(0) == b.window(0))
        #expect(a.window(0).inputs == Array(expected.dropLast()))
        #expect(a.window(0).targets == Array(expected.dropFirst()))
        #expect(order != Array(0..<6))
    }

    @Test func tooFewTokensIsAnError() {
        let error = dataError { _ = try LanguageModelBatches(documents: [[1, 2, 3]], batchSize: 3) }
        #expect(error?.description == "field 'batchSize': 3 tokens are too few for 3 streams (need at least 4)")
    }
}

@Suite struct ClassificationBatchesTests {
    @Test func paddingAtTheEndTimeMajor() throws {
        let batches = try ClassificationBatches(sequences: [[5, 6, 7], [8], [9, 10]],
                                                labels: [1, 0, 1], batchSize: 2)
        #expect(batches.batchCount == 2)
        let first = batches.batch(0)
        #expect(first.maxLength == 3)
        #expect(first.lengths == [3, 1])
        #expect(first.labels == [1, 0])
        // Rows [5 6 7] and [8 pad pad], time-major.
        #expect(first.tokens == [5, 8, 6, 0, 7, 0])
        let second = batches.batch(1)
        #expect(second.batchSize == 1)
        #expect(second.tokens == [9, 10])
        #expect(second.lengths == [2])
        #expect(second.indices == [2])
    }

    @Test func shuffleIsAReproduciblePermutation() throws {
        let sequences = (0..<10).map { [Int32($0 + 2)] }
        let labels = (0..<10).map { Int32($0 % 2) }
        let a = try ClassificationBatches(sequences: sequences, labels: labels, batchSize: 4, shuffle: (seed: 9, epoch: 1))
        let b = try ClassificationBatches(sequences: sequences, labels: labels, batchSize: 4, shuffle: (seed: 9, epoch: 1))
        let c = try ClassificationBatches(sequences: sequences, labels: labels, batchSize: 4, shuffle: (seed: 9, epoch: 2))
        #expect(a.order == b.order)
        #expect(a.order != c.order)
        #expect(a.order.sorted() == Array(0..<10))
        var random = CounterRandom(seed: 9, RandomPurpose.epochShuffle.rawValue, 1)
        #expect(a.order == SeededShuffle.permutation(count: 10, random: &random))
        let seen = (0..<a.batchCount).flatMap { a.batch($0).indices }
        #expect(seen == a.order)
        for i in 0..<a.batchCount {
            let batch = a.batch(i)
            #expect(batch.tokens == batch.indices.map { Int32($0 + 2) })
            #expect(batch.labels == batch.indices.map { Int32($0 % 2) })
        }
        let dropped = try ClassificationBatches(sequences: sequences, labels: labels, batchSize: 4,
                                                shuffle: (seed: 9, epoch: 1), dropLast: true)
        #expect(dropped.order == Array(a.order.prefix(8)))
    }

    @Test func emptySequenceIsAnError() {
        let error = dataError { _ = try ClassificationBatches(sequences: [[1], []], labels: [0, 1], batchSize: 2) }
        #expect(error?.description == "field 'sequences': sequence 1 has no tokens (shorter than k?)")
    }
}

@Suite struct SeededShuffleTests {
    @Test func uniformStaysBelowBound() {
        var random = CounterRandom(seed: 1, 2)
        var seen = Set<UInt64>()
        for _ in 0..<500 {
            let x = SeededShuffle.uniform(below: 7, random: &random)
            #expect(x < 7)
            seen.insert(x)
        }
        #expect(seen == Set(0..<7))
    }
}
