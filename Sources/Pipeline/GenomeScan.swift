import Foundation
import GenomicData
import OutputFiles
import Reporting

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
        /// A region `chr:start-end` (1-based, inclusive) to draw into `scan.svg`; nil: no chart.
        public var plot: String?
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
                           outDirectory: String, log: (String) -> Void = { print($0) },
                           warn: (String) -> Void = { print("warning: \($0)") }) throws -> Summary {
        guard classifier.classCount == 2 else {
            throw DataError(file: genome, "scan needs a two-class (promoter / non-promoter) classifier; this one has "
                            + "\(classifier.classCount) classes")
        }
        guard options.window >= encoder.tokenizer.k, options.step >= 1, options.top >= 0, options.batch >= 1 else {
            throw DataError(field: "window", "window \(options.window) must be at least k = \(encoder.tokenizer.k), "
                            + "step \(options.step) and batch \(options.batch) at least 1, top \(options.top) at least 0")
        }
        // Everything about the output is checked before the genome is scored: the folder can be
        // written and the --plot region is one.
        try checkOutput(outDirectory, plot: options.plot)
        var summary = Summary()
        summary.window = options.window
        summary.step = options.step
        var tracks: [Track] = []
        // Per name, the stretches already placed (0-based half-open) and their record numbers:
        // samtools faidx regions of one chromosome are ordinary input, overlapping ones are not.
        var placed: [String: [(start: Int, end: Int, record: Int)]] = [:]
        let start = Date()
        try FastaReader(path: genome, policy: .everyRecord).forEachRecord { record in
            let (chrom, offset) = region(header: record.header, index: summary.records)
            summary.records += 1
            summary.bases += record.sequence.count
            let span = (start: offset, end: offset + record.sequence.count, record: summary.records)
            if let other = placed[chrom, default: []].first(where: { $0.start < span.end && span.start < $0.end }) {
                throw DataError(file: genome, "records \(other.record) and \(summary.records) are both named \(chrom) and "
                                + "cover the same bases (\(other.start + 1)-\(other.end) and \(span.start + 1)-\(span.end)): "
                                + "a track needs each base once")
            }
            placed[chrom, default: []].append(span)
            if let declared = parseRegion(record.header.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""),
               declared.end - declared.start != record.sequence.count {
                warn("record \(summary.records) (\(record.header.prefix(60))) holds \(record.sequence.count) bases, but its "
                     + "header's region is \(declared.end - declared.start) bases long: the track is placed from "
                     + "\(declared.start + 1) and \(record.sequence.count > declared.end - declared.start ? "runs past" : "stops before") "
                     + "the region's end \(declared.end)")
            }
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
        if summary.bases == 0 {
            throw DataError(file: genome, "holds no bases (\(summary.records) record\(summary.records == 1 ? "" : "s")): nothing to scan")
        }
        if summary.recordsShorterThanWindow == summary.records {
            let longest: Int = placed.values.joined().map { $0.end - $0.start }.max() ?? 0
            throw DataError(file: genome, field: "window", "every record is shorter than the window of \(options.window) "
                            + "bases (the longest has \(longest)): use a window of at most \(longest)")
        }
        tracks.sort { ($0.chrom.utf8.lexicographicallyPrecedes($1.chrom.utf8)) || ($0.chrom == $1.chrom && $0.offset < $1.offset) }

        // The chart first: a region with no scored window fails before any file is written.
        let top = topWindows(tracks, options: options)
        let svg: SVGLineChart? = try options.plot.map { try chart(tracks, top: top, region: $0, options: options, source: genome) }
        try OutputFile.makeDirectory(outDirectory, wanted: "the scan's folder (--out)")
        try OutputFile.write(bedGraph(tracks, options: options, source: genome), to: path(outDirectory, "scan.bedGraph"),
                             wanted: "the scan track")
        try OutputFile.write(topBED(top, tracks: tracks, options: options), to: path(outDirectory, "top.bed"),
                             wanted: "the top windows")
        try svg?.write(to: path(outDirectory, "scan.svg"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try OutputFile.write(encoder.encode(summary), to: path(outDirectory, "scan.json"), wanted: "the scan summary")
        return summary
    }

    /// The files a scan writes into its folder.
    public static let outputFiles = ["scan.bedGraph", "top.bed", "scan.json", "scan.svg"]

    /// Refuses, before any work, an output folder that cannot be written and a `--plot` that is
    /// not a region `chr:start-end`.
    public static func checkOutput(_ outDirectory: String, plot: String?) throws {
        if let plot, parseRegion(plot) == nil {
            throw DataError(field: "plot", "\(plot) is not a region chr:start-end (1-based, e.g. chr22:20000001-20100000)")
        }
        try OutputFile.checkCanCreateDirectory(outDirectory, wanted: "the scan's folder (--out)")
    }

    /// The record's chromosome name and position offset: `chr:start-end` headers (1-based
    /// start) map to (`chr`, start - 1); any other header to (its first word, 0).
    static func region(header: String, index: Int) -> (chrom: String, offset: Int) {
        let word = header.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        if let r = parseRegion(word) { return (r.chrom, r.start) }
        return (word.isEmpty ? "record\(index + 1)" : word, 0)
    }

    /// `chr:start-end` (1-based, inclusive, commas allowed) as a 0-based half-open range; nil
    /// for anything else.
    static func parseRegion(_ text: String) -> (chrom: String, start: Int, end: Int)? {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else { return nil }
        let range = text[text.index(after: colon)...].replacingOccurrences(of: ",", with: "").split(separator: "-")
        guard range.count == 2, let from = Int(range[0]), let to = Int(range[1]), from >= 1, to >= from else { return nil }
        return (String(text[..<colon]), from - 1, to)
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

    /// One of the top windows: track, window index, score and rank (1 = best).
    struct Pick { var track: Int; var index: Int; var score: Float; var rank = 0 }

    /// The best `options.top` mutually non-overlapping windows of all tracks, ranked, in track
    /// and position order.
    static func topWindows(_ tracks: [Track], options: Options) -> [Pick] {
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
        return picks.prefix(options.top).enumerated().map { var p = $0.element; p.rank = $0.offset + 1; return p }
            .sorted { ($0.track, $0.index) < ($1.track, $1.index) }
    }

    /// BED6 lines of the top windows (name `topN_pP`, score 1000 x P).
    static func topBED(_ picks: [Pick], tracks: [Track], options: Options) -> String {
        var text = ""
        for pick in picks {
            let track = tracks[pick.track], start = track.offset + pick.index * options.step
            text += "\(track.chrom)\t\(start)\t\(start + options.window)\ttop\(pick.rank)_p\(String(format: "%.4f", pick.score))\t"
                + "\(Int((pick.score * 1000).rounded()))\t.\n"
        }
        return text
    }

    /// The track over `region` (`chr:start-end`, 1-based inclusive) as a chart: P(class 1) at
    /// each window's centre (in Mb), gaps where windows were skipped, the top windows marked.
    /// - Throws: `DataError` when the region is malformed or holds no scored window.
    static func chart(_ tracks: [Track], top: [Pick], region: String, options: Options, source: String) throws -> SVGLineChart {
        guard let (chrom, from, end) = parseRegion(region), let t = tracks.firstIndex(where: { $0.chrom == chrom }) else {
            throw DataError(field: "plot", "\(region) is not a region chr:start-end of a scanned record "
                            + "(records: \(tracks.map(\.chrom).joined(separator: ", ")))")
        }
        let track = tracks[t], half = Double(options.window) / 2
        func centre(_ i: Int) -> Double { (Double(track.offset + i * options.step) + half) / 1e6 }
        let inside = track.scores.indices.filter { (Double(from) ... Double(end)).contains(centre($0) * 1e6) }
        guard inside.contains(where: { !track.scores[$0].isNaN }) else {
            throw DataError(field: "plot", "no scored window has its centre in \(region)")
        }
        let line = inside.map { (x: centre($0), y: Double(track.scores[$0])) }
        // Markers only: a NaN between the points keeps them unconnected.
        let marks = top.filter { $0.track == t && inside.contains($0.index) }
            .flatMap { [(x: centre($0.index), y: Double($0.score)), (x: centre($0.index), y: Double.nan)] }
        var chart = SVGLineChart(
            title: "ulmfit scan of \((source as NSString).lastPathComponent): \(options.window)-nt windows every \(options.step) nt",
            xLabel: "position on \(chrom) (Mb, window centre)", yLabel: "P(promoter)",
            series: [.init(name: "P(promoter)", points: line)])
        if !marks.isEmpty { chart.series.append(.init(name: "top windows (top.bed)", points: marks, markers: true)) }
        chart.yRange = (0, 1)
        chart.width = 960
        chart.height = 360
        return chart
    }

    private static func path(_ directory: String, _ file: String) -> String {
        (directory as NSString).appendingPathComponent(file)
    }
}
