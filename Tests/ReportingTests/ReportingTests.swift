import Foundation
import Testing
@testable import Reporting

@Suite struct ReportingTests {
    @Test func ticksAreRoundAndInsideTheRange() {
        #expect(SVGLineChart.ticks(0, 10) == [0, 2, 4, 6, 8, 10])
        #expect(SVGLineChart.ticks(0.13, 0.91) == [0.2, 0.4, 0.6000000000000001, 0.8])
    }

    @Test func chartHasOnePolylinePerSeriesAndEscapesText() {
        var chart = SVGLineChart(title: "loss <train>", xLabel: "step", yLabel: "nats",
                                 series: [.init(name: "train", points: [(0, 2), (1, 1.5), (2, 1.2)]),
                                          .init(name: "valid", points: [(0, 2.1), (2, 1.4)], markers: true)])
        chart.rightSeries = [.init(name: "efficiency", points: [(0, 1), (2, 0.9)])]
        chart.rightLabel = "efficiency"
        let svg = chart.render()
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 3)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2)
        #expect(svg.contains("loss &lt;train&gt;"))
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
    }

    /// A NaN y (a window skipped over N in a scan track) breaks the line: two polylines, no
    /// segment across the gap; a fixed y range puts its ends on the axis.
    @Test func aGapBreaksTheLineAndAFixedRangeIsKept() {
        var chart = SVGLineChart(title: "scan", xLabel: "Mb", yLabel: "P",
                                 series: [.init(name: "P", points: [(0, 0.2), (1, 0.4), (2, .nan), (3, 0.3), (4, 0.35)])])
        chart.yRange = (0, 1)
        let svg = chart.render()
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        for label in [">0<", ">0.2<", ">0.4<", ">0.6<", ">0.8<", ">1<"] { #expect(svg.contains(label), "tick \(label)") }
    }

    @Test func tickLabelsKeepTheirSpacingsDigits() {
        let ticks = SVGLineChart.ticks(20.7, 20.9)
        #expect(ticks.count >= 4)
        let labels = ticks.map { SVGLineChart.format($0, ticks: ticks) }
        #expect(Set(labels).count == labels.count, "distinct labels: \(labels)")
        #expect(labels.contains("20.75") && labels.contains("20.80"))
        #expect(SVGLineChart.format(1, ticks: [0, 0.2, 0.4]) == "1" && SVGLineChart.format(0.4, ticks: [0, 0.2, 0.4]) == "0.4")
    }

    @Test func metricsLogWritesJSONLAndCSVWithStableColumns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let log = try MetricsLog(directory: dir, name: "train")
            try log.append(["step": 1, "loss": 2.5, "note": "a,b"])
            try log.append(["step": 2, "loss": .number(.nan)])
        }
        let jsonl = try String(contentsOfFile: dir + "/train.jsonl", encoding: .utf8)
        #expect(jsonl == "{\"step\":1,\"loss\":2.5,\"note\":\"a,b\"}\n{\"step\":2,\"loss\":null}\n")
        let csv = try String(contentsOfFile: dir + "/train.csv", encoding: .utf8)
        #expect(csv == "step,loss,note\n1,2.5,\"a,b\"\n2,,\n")
    }
}
