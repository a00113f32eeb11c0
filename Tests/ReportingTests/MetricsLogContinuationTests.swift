import Foundation
import Testing
@testable import Reporting

/// A resumed run continues its logs after the rows its checkpoint counted.
@Suite struct MetricsLogContinuationTests {
    static func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)").path
    }

    @Test func rowsAfterTheCheckpointAndACutLineAreDroppedThenAppended() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try MetricsLog(directory: dir, name: "metrics")
        for step in 1 ... 5 { try log.append([("step", .integer(step)), ("loss", .number(1.0 / Double(step)))]) }
        // A crash in the middle of a row leaves half a line.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log.jsonlPath))
        _ = try handle.seekToEnd()
        handle.write(Data("{\"step\":6,\"lo".utf8))
        try handle.close()

        let continued = try MetricsLog(continuing: dir, name: "metrics", rows: 3)
        #expect(continued.rowCount == 3 && continued.missingRows == 0)
        #expect(continued.previousRows.map { $0["step"] } == [1, 2, 3])
        #expect(continued.previousRows[2]["loss"] == 1.0 / 3)
        try continued.append([("step", .integer(4)), ("loss", .number(0.5))])
        #expect(continued.rowCount == 4)
        let jsonl = try String(contentsOfFile: continued.jsonlPath, encoding: .utf8)
        #expect(jsonl == "{\"step\":1,\"loss\":1.0}\n{\"step\":2,\"loss\":0.5}\n{\"step\":3,\"loss\":0.3333333333333333}\n"
            + "{\"step\":4,\"loss\":0.5}\n")
        let csv = try String(contentsOfFile: continued.csvPath, encoding: .utf8)
        #expect(csv == "step,loss\n1,1.0\n2,0.5\n3,0.3333333333333333\n4,0.5\n")
    }

    @Test func fewerRowsThanCountedAreReportedAndMissingFilesStartEmpty() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try MetricsLog(directory: dir, name: "valid")
        try log.append([("step", .integer(1))])
        let continued = try MetricsLog(continuing: dir, name: "valid", rows: 4)
        #expect(continued.rowCount == 1 && continued.missingRows == 3)

        let fresh = try MetricsLog(continuing: dir, name: "other", rows: 0)
        try fresh.append([("a", .integer(1))])
        #expect(try String(contentsOfFile: fresh.csvPath, encoding: .utf8) == "a\n1\n")
    }
}
