import Foundation
import GenomicData
import Testing
@testable import ulmfit

/// The inputs of `bench step --task classifier` and `bench predict`, and their option checks
/// (the measurements themselves time the machine: not tested here).
@Suite struct BenchTaskTests {
    /// The reported median: the middle time, or the mean of the two middle ones (an even count
    /// of passes used to report the slower of the two).
    @Test func medianOfEvenAndOddCounts() {
        #expect(BenchSupport.median([1, 5, 9]) == 5)
        #expect(BenchSupport.median([1, 2, 4, 10]) == 3)
        #expect(BenchSupport.median([7]) == 7)
    }

    /// Lengths come from the train split only, as token counts at the given k and stride.
    @Test func lengthsAreTheTrainSplitsTokenCounts() throws {
        let cli = try CLI()
        var text = "sequence,label,split\n"
        for (n, split) in [(20, "train"), (25, "train"), (9, "valid"), (41, "test"), (6, "train")] {
            text += String(repeating: "ACGT", count: 20).prefix(n) + ",\(n % 2),\(split)\n"
        }
        try cli.write("d.csv", text)
        let lengths = try ClassifierStepBench.lengths(dataset: cli.folder + "/d.csv", k: 5, stride: 2)
        // (n - k) / stride + 1 for n = 20, 25, 6.
        #expect(lengths.sorted() == [1, 8, 11])
        #expect(throws: DataError.self) { try ClassifierStepBench.lengths(dataset: cli.folder + "/d.csv", k: 30, stride: 2) }
    }

    /// Drawn sequences: lengths from the pool, ids never padding (0) or unknown (1), the same
    /// for the same seed.
    @Test func drawnSequences() {
        let a = ClassifierStepBench.sequences(count: 50, lengths: [3, 124], vocab: 1025, seed: 9)
        #expect(a.count == 50)
        #expect(a.allSatisfy { $0.count == 3 || $0.count == 124 })
        #expect(Set(a.map(\.count)).count == 2)
        #expect(a.allSatisfy { $0.allSatisfy { $0 >= 2 && $0 < 1025 } })
        #expect(a == ClassifierStepBench.sequences(count: 50, lengths: [3, 124], vocab: 1025, seed: 9))
    }

    /// The scan's vocabulary: every 5-mer, after padding and unknown.
    @Test func scanVocabularyHoldsEveryKmer() throws {
        let v = try PredictBench.fullVocabulary()
        #expect(v.count == 2 + 1024)
        #expect(v.k == 5 && v.stride == 2)
        #expect(v.id(of: "ACGTA") > 1 && v.id(of: "TTTTT") > 1)
    }

    @Test func optionsAreChecked() throws {
        let cli = try CLI()
        #expect(try cli.run("bench step --lengths-from d.csv").error.contains("--lengths-from applies to --task classifier"))
        #expect(try cli.run("bench step --task clasifier").error.contains("--task"))
        #expect(try cli.run("bench step --task classifier --length 0").error.contains("--length must be >= 1"))
        #expect(try cli.run("bench step --freeze-to -2").error.contains("--freeze-to applies to --task classifier"))
        #expect(try cli.run("bench step --task classifier --freeze-to -9").error.contains("freezeTo(-9) is outside"))
        #expect(try cli.run("bench predict --window 3").error.contains("--window must hold one 5-mer"))
        #expect(try cli.run("bench predict --sequences 0").error.contains("--sequences must be >= 1"))
        #expect(try cli.run("bench predict --batch 0").error.contains("--batch: expected a positive integer"))
    }
}
