import Foundation
import OutputFiles

/// A small line chart written as standalone SVG: loss curves, scaling plots.
///
/// Hand-written because no package on this project's mirror draws charts, and a chart a person
/// can open in any browser needs nothing more than axes, ticks, polylines and a legend.
public struct SVGLineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        /// A point whose y is not finite (NaN) breaks the line there (a gap in the data).
        public var points: [(x: Double, y: Double)]
        /// Draw markers at the points (few points, e.g. worker counts) or only the line.
        public var markers: Bool
        public init(name: String, points: [(x: Double, y: Double)], markers: Bool = false) {
            self.name = name
            self.points = points
            self.markers = markers
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Series drawn against a second y axis on the right (e.g. parallel efficiency).
    public var rightSeries: [Series] = []
    public var rightLabel: String = ""
    /// The left axis' range; nil: the data's, padded 5%.
    public var yRange: (Double, Double)?
    public var width = 720.0, height = 420.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]

    public func render() -> String {
        let left = 70.0, right = rightSeries.isEmpty ? 20.0 : 70.0, top = 40.0, bottom = 55.0
        let plotW = width - left - right, plotH = height - top - bottom
        let all = (series + rightSeries).flatMap(\.points)
        let xs = all.map(\.x).filter(\.isFinite)
        let (x0, x1) = Self.range(xs)
        let (y0, y1) = yRange ?? Self.range(series.flatMap(\.points).map(\.y).filter(\.isFinite))
        let (r0, r1) = Self.range(rightSeries.flatMap(\.points).map(\.y).filter(\.isFinite))
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double, _ lo: Double, _ hi: Double) -> Double { top + plotH - (y - lo) / (hi - lo) * plotH }

        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

        """
        s += "<rect x=\(q(left)) y=\(q(top)) width=\(q(plotW)) height=\(q(plotH)) fill=\"none\" stroke=\"#444\"/>\n"
        let xTicks = Self.ticks(x0, x1), yTicks = Self.ticks(y0, y1)
        for t in xTicks {
            s += "<line x1=\(q(px(t))) y1=\(q(top + plotH)) x2=\(q(px(t))) y2=\(q(top + plotH + 5)) stroke=\"#444\"/>"
            s += "<text x=\(q(px(t))) y=\(q(top + plotH + 18)) text-anchor=\"middle\">\(Self.format(t, ticks: xTicks))</text>\n"
        }
        for t in yTicks {
            s += "<line x1=\(q(left)) y1=\(q(py(t, y0, y1))) x2=\(q(left + plotW)) y2=\(q(py(t, y0, y1))) stroke=\"#eee\"/>"
            s += "<text x=\(q(left - 6)) y=\(q(py(t, y0, y1) + 4)) text-anchor=\"end\">\(Self.format(t, ticks: yTicks))</text>\n"
        }
        if !rightSeries.isEmpty {
            let rTicks = Self.ticks(r0, r1)
            for t in rTicks {
                s += "<text x=\(q(left + plotW + 6)) y=\(q(py(t, r0, r1) + 4))>\(Self.format(t, ticks: rTicks))</text>\n"
            }
            s += "<text transform=\"translate(\(width - 15),\(top + plotH / 2)) rotate(90)\" text-anchor=\"middle\">\(Self.escape(rightLabel))</text>\n"
        }
        s += "<text x=\(q(left + plotW / 2)) y=\(q(height - 12)) text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(16,\(top + plotH / 2)) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"

        let drawn = series.map { ($0, y0, y1, false) } + rightSeries.map { ($0, r0, r1, true) }
        // A light box behind the legend so curves under it stay readable around it.
        let legendWidth = 48 + 7 * Double(drawn.map(\.0.name.count).max() ?? 0)
        s += "<rect x=\(q(left + 4)) y=\(q(top + 4)) width=\(q(legendWidth)) height=\(q(16 * Double(drawn.count) + 6)) "
            + "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ddd\"/>\n"
        for (i, (line, lo, hi, dashed)) in drawn.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let pts = line.points.filter { $0.x.isFinite && $0.y.isFinite }
            // One polyline per run of finite points: a NaN y leaves a gap.
            for piece in line.points.split(whereSeparator: { !$0.x.isFinite || !$0.y.isFinite }) {
                let path = piece.map { "\(q2(px($0.x))),\(q2(py($0.y, lo, hi)))" }.joined(separator: " ")
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"\(dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(path)\"/>\n"
            }
            if line.markers {
                for p in pts { s += "<circle cx=\(q(px(p.x))) cy=\(q(py(p.y, lo, hi))) r=\"3.5\" fill=\"\(color)\"/>" }
                s += "\n"
            }
            let ly = top + 16 + Double(i) * 16
            s += "<line x1=\(q(left + 10)) y1=\(q(ly - 4)) x2=\(q(left + 34)) y2=\(q(ly - 4)) stroke=\"\(color)\" stroke-width=\"2\"\(dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            s += "<text x=\(q(left + 40)) y=\(q(ly))>\(Self.escape(line.name))</text>\n"
        }
        return s + "</svg>\n"
    }

    /// Writes the chart atomically to `path`.
    public func write(to path: String) throws {
        try OutputFile.write(render(), to: path, wanted: "the chart")
    }

    private func q(_ v: Double) -> String { "\"\(String(format: "%.1f", v))\"" }
    private func q2(_ v: Double) -> String { String(format: "%.1f", v) }

    static func range(_ values: [Double]) -> (Double, Double) {
        guard let lo = values.min(), let hi = values.max() else { return (0, 1) }
        if lo == hi { return (lo - 1, hi + 1) }
        let pad = (hi - lo) * 0.05
        return (lo - pad, hi + pad)
    }

    /// About five round tick values inside [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = ceil(lo / step) * step, out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(t); t += step }
        return out
    }

    /// A tick label with as many decimals as the ticks' spacing needs (20.75 and 20.8 stay apart
    /// on a 0.05 grid, as 20.75 and 20.80, where three significant digits would print both as 20.8).
    static func format(_ v: Double, ticks: [Double]) -> String {
        guard ticks.count >= 2, v != 0, v != v.rounded(), abs(v) < 1e5, abs(v) >= 1e-3 else { return format(v) }
        let step = abs(ticks[1] - ticks[0])
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return String(format: "%.\(decimals)f", v)
    }

    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e5 || abs(v) < 1e-3 { return String(format: "%.1e", v) }
        if v == v.rounded() { return String(Int(v)) }
        return String(format: "%.3g", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
