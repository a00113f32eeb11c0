import Foundation
import GenomicData

/// `ulmfit scan`: slides a two-class classifier along long sequences (chromosomes) and writes
/// the probability of class 1 (promoter) of every window as a bedGraph track, plus the
/// top-scoring windows as BED.
///
/// - Windows of `window` bases start every `step` bases (0-based starts 0, step, ... while the
///   window fits). A window that overlaps any symbol other than A/C/G/T (runs of N, assembly
///   gaps) is skipped and counted.
/// - `scan.bedGraph`: a `track` header line, then `chrom start end probability`, 0-based and
///   half-open as BED. Each window's probability is written on its central `min(step, window)`
///   bases, so intervals neither overlap nor leave gaps between scored windows (what
///   `bedGraphToBigWig` requires, and IGV and the UCSC browser load); records are written in
///   byte order of their names and intervals by position (`LC_ALL=C sort -k1,1 -k2,2n` order).
/// - `top.bed`: the `top` best windows that do not overlap one another (greedy: the best window,
///   then the best one not overlapping it, ...), as BED6 (name `topN_pP`, score 1000 x P), in
///   the same order as the bedGraph.
/// - Record names are the header's first word; a header `chr:start-end` (samtools region
///   syntax, 1-based) names the region's chromosome and shifts positions by its start, so a
///   chunk cut from a chromosome is drawn where it lies on it.
public enum GenomeScan {
    public struct Options: Sendable {
        public var window = 251
        public var step = 10
        /// Windows in `top.bed`.
        public var top = 100
        /// Windows per call of the classifier.
        public var batch = 256
        public init() {}
    }

    /// What a scan did, written to `scan.json`.
    public struct Summary: Codable, Equatable, Sendable {
        public var records = 0
        public var bases = 0
        /// Windows scored.
        public var windows = 0
        /// Windows skipped for overlapping a symbol other than A/C/G/T.
        public var windowsSkippedNonACGT = 0
        /// Records shorter than one window (no window at all).
        public var recordsShorterThanWindow = 0
        public var seconds = 0.0
        public var windowsPerSecond = 0.0
        public var window = 0
        public var step = 0
    }

    /// One record's scores: `scores[i]` for the window starting at `i * step` (NaN: skipped).
    struct Track {
        var chrom: String
        /// Added to every position (a `chr:start-end` header's start - 1).
        var offset: Int
        var scores: [Float]
    }

    /// Scans every record of `genome` (FASTA, plain or .gz) into `outDirectory` (created; the
    /// files are written atomically at the end).
    /// - Parameter log: progress lines.
    /// - Throws: `DataError` for unreadable input or two records of one name; classifier errors.
    public static func run(genome: String, classifier: SequenceClassifier, encoder: KmerEncoder, options: Options,
                           outDirectory: String, log: (String) -> Void = { print($0) }) throws -> Summary {
        guard classifier.classCount == 2 else {
            throw DataError(file: genome, "scan needs a two-class (promoter / non-promoter) classifier; this one has "
                            + "\(classifier.classCount) classes")
        }
        guard options.window >= encoder.tokenizer.k, options.step >= 1, options.top >= 0, options.batch >= 1 else {
            throw DataError(field: "window", "window \(options.window) must be at least k = \(encoder.tokenizer.k), "
                            + "step \(options.step) and batch \(options.batch) at least 1, top \(options.top) at least 0")
        }
        var summary = Summary()
        summary.window = options.window
        summary.step = options.step
        var tracks: [Track] = []
        var names: [String: Int] = [:]
        let start = Date()
        try FastaReader(path: genome, policy: .everyRecord).forEachRecord { record in
            let (chrom, offset) = region(header: record.header, index: summary.records)
            summary.records += 1
            summary.bases += record.sequence.count
            if let first = names[chrom] {
                throw DataError(file: genome, "records \(first) and \(summary.records) are both named \(chrom): "
                                + "a track needs one record per name")
            }
            names[chrom] = summary.records
            let scores = try score(record.sequence, classifier: classifier, encoder: encoder, options: options,
                                   summary: &summary)
            if scores.isEmpty { summary.recordsShorterThanWindow += 1 }
            tracks.append(Track(chrom: chrom, offset: offset, scores: scores))
            let seconds = Date().timeIntervalSince(start)
            log("\(chrom): \(record.sequence.count) bases, \(scores.count) windows; \(summary.windows) scored, "
                + "\(summary.windowsSkippedNonACGT) skipped (non-ACGT) so far, "
                + String(format: "%.0f windows/s", Double(summary.windows) / max(seconds, 1e-9)))
        }
        summary.seconds = Date().timeIntervalSince(start)
        summary.windowsPerSecond = Double(summary.windows) / max(summary.seconds, 1e-9)
        tracks.sort { $0.chrom.utf8.lexicographicallyPrecedes($1.chrom.utf8) }

        try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        try write(bedGraph(tracks, options: options, source: genome), to: path(outDirectory, "scan.bedGraph"))
        try write(topBED(tracks, options: options), to: path(outDirectory, "top.bed"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(summary).write(to: URL(fileURLWithPath: path(outDirectory, "scan.json")), options: .atomic)
        return summary
    }

    /// The record's chromosome name and position offset: `chr:start-end` headers (1-based
    /// start) map to (`chr`, start - 1); any other header to (its first word, 0).
    static func region(header: String, index: Int) -> (chrom: String, offset: Int) {
        let word = header.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        if let colon = word.lastIndex(of: ":") {
            let range = word[word.index(after: colon)...].replacingOccurrences(of: ",", with: "").split(separator: "-")
            if range.count == 2, let from = Int(range[0]), let to = Int(range[1]), from >= 1, to >= from,
               colon != word.startIndex {
                return (String(word[..<colon]), from - 1)
            }
        }
        return (word.isEmpty ? "record\(index + 1)" : word, 0)
    }

    /// Class-1 probability of every window of `sequence` (NaN where the window overlaps a
    /// non-ACGT symbol), scored `options.batch` windows at a time.
    static func score(_ sequence: [UInt8], classifier: SequenceClassifier, encoder: KmerEncoder, options: Options,
                      summary: inout Summary) throws -> [Float] {
        let W = options.window, n = sequence.count
        guard n >= W else { return [] }
        let count = (n - W) / options.step + 1
        // invalidBefore[i]: non-ACGT symbols in sequence[0..<i].
        var invalidBefore = [Int32](repeating: 0, count: n + 1)
        for i in 0 ..< n { invalidBefore[i + 1] = invalidBefore[i] + (isACGT(sequence[i]) ? 0 : 1) }
        var scores = [Float](repeating: .nan, count: count)
        var pending: [Int] = [], tokens: [[Int32]] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            let p = try classifier.probabilities(tokens)
            for (i, probability) in zip(pending, p) { scores[i] = probability[1] }
            summary.windows += pending.count
            pending.removeAll(keepingCapacity: true)
            tokens.removeAll(keepingCapacity: true)
        }
        for i in 0 ..< count {
            let s = i * options.step
            if invalidBefore[s + W] != invalidBefore[s] {
                summary.windowsSkippedNonACGT += 1
                continue
            }
            pending.append(i)
            tokens.append(encoder.encode(Array(sequence[s ..< s + W])))
            if pending.count == options.batch { try flush() }
        }
        try flush()
        return scores
    }

    static func isACGT(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A"), UInt8(ascii: "C"), UInt8(ascii: "G"), UInt8(ascii: "T"): true
        default: false
        }
    }

    /// The bedGraph text: header line, then each scored window's central interval.
    static func bedGraph(_ tracks: [Track], options: Options, source: String) -> String {
        let w = min(options.step, options.window), shift = (options.window - w) / 2
        let name = (source as NSString).lastPathComponent
        var text = "track type=bedGraph name=\"P(promoter)\" description=\"ulmfit scan of \(name): "
            + "P(class 1) of \(options.window)-nt windows every \(options.step) nt\" "
            + "visibility=full autoScale=off viewLimits=0:1\n"
        for track in tracks {
            for (i, p) in track.scores.enumerated() where !p.isNaN {
                let start = track.offset + i * options.step + shift
                text += "\(track.chrom)\t\(start)\t\(start + w)\t\(String(format: "%.4f", p))\n"
            }
        }
        return text
    }

    /// The best `options.top` mutually non-overlapping windows of all tracks, as BED6 lines in
    /// track and position order.
    static func topBED(_ tracks: [Track], options: Options) -> String {
        struct Pick { var track: Int; var index: Int; var score: Float }
        var picks: [Pick] = []
        for (t, track) in tracks.enumerated() {
            // Greedy non-maximum suppression within the record: windows i, j overlap when their
            // starts are closer than the window length.
            let order = track.scores.indices.filter { !track.scores[$0].isNaN }
                .sorted { track.scores[$0] > track.scores[$1] || (track.scores[$0] == track.scores[$1] && $0 < $1) }
            var chosen: [Int] = []
            for i in order where chosen.count < options.top {
                if chosen.allSatisfy({ abs($0 - i) * options.step >= options.window }) { chosen.append(i) }
            }
            picks += chosen.map { Pick(track: t, index: $0, score: track.scores[$0]) }
        }
        picks.sort { $0.score > $1.score || ($0.score == $1.score && ($0.track, $0.index) < ($1.track, $1.index)) }
        let ranked = picks.prefix(options.top).enumerated().map { (rank: $0.offset + 1, pick: $0.element) }
            .sorted { ($0.pick.track, $0.pick.index) < ($1.pick.track, $1.pick.index) }
        var text = ""
        for (rank, pick) in ranked {
            let track = tracks[pick.track], start = track.offset + pick.index * options.step
            text += "\(track.chrom)\t\(start)\t\(start + options.window)\ttop\(rank)_p\(String(format: "%.4f", pick.score))\t"
                + "\(Int((pick.score * 1000).rounded()))\t.\n"
        }
        return text
    }

    private static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private static func path(_ directory: String, _ file: String) -> String {
        (directory as NSString).appendingPathComponent(file)
    }
}
