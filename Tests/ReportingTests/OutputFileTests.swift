import Foundation
import Testing
@testable import OutputFiles
import Reporting

/// Output-path problems are `OutputError`s that say which path, what was wanted and why.
@Suite struct OutputFileTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("output-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }

    private func error(_ body: () throws -> Void) -> OutputError? {
        do { try body() } catch let error as OutputError { return error } catch { return nil }
        return nil
    }

    /// A writer killed between creating its temporary file and renaming it leaves
    /// `.NAME.partial-PID-*` behind: the next write of NAME removes it, but never the temporary
    /// file of a writer that is still alive.
    @Test func aKilledWritersTemporaryFileIsRemovedByTheNextWrite() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let dead = folder + "/.v.json.partial-\(exited.processIdentifier)-7"
        let alive = folder + "/.v.json.partial-1-7"   // pid 1 is always alive
        for path in [dead, alive] { #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8))) }
        try OutputFile.write("{}", to: folder + "/v.json", wanted: "the vocabulary")
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: alive))
        #expect(try String(contentsOfFile: folder + "/v.json", encoding: .utf8) == "{}")
    }

    @Test func aFileWhereAFolderIsWanted() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/taken"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(error { try OutputFile.makeDirectory(file) }?.description
                == "cannot write the results folder at \(file): is a file, not a folder")
        #expect(error { try OutputFile.makeDirectory(file + "/run/sub") }?.description
                == "cannot write the results folder at \(file)/run/sub: \(file) is a file, not a folder")
        #expect(error { try OutputFile.checkCanCreateDirectory(file + "/run") }?.reason == "\(file) is a file, not a folder")
        let log = error { _ = try MetricsLog(directory: file, name: "metrics") }
        #expect(log?.path == file && log?.reason == "is a file, not a folder")
        #expect(error { try OutputFile.write("y", to: file + "/v.json", wanted: "the vocabulary") }?.description
                == "cannot write the folder of the vocabulary at \(file): is a file, not a folder")
    }

    @Test func aFolderWhereAFileIsWantedKeepsTheFolderAndLeavesNoTemporaryFile() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/chart.svg", withIntermediateDirectories: true)
        let e = error { try OutputFile.write("<svg/>", to: folder + "/chart.svg", wanted: "the chart") }
        #expect(e?.path == folder + "/chart.svg" && e?.wanted == "the chart")
        #expect(e?.reason == "is a folder, not a file")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["chart.svg"])
    }

    /// /sys refuses new entries even to root (EPERM), unlike a chmod'ed folder.
    @Test func aPlaceOneMayNotWriteTo() throws {
        try #require(FileManager.default.fileExists(atPath: "/sys/kernel"), "needs Linux's /sys")
        let e = error { try OutputFile.makeDirectory("/sys/ulmfit-run") }
        #expect(e?.path == "/sys/ulmfit-run")
        #expect(e?.reason.hasPrefix("not allowed to write there") == true)
        #expect(error { try OutputFile.checkCanCreateDirectory("/sys/ulmfit-run/a") }?.reason.hasPrefix("not allowed") == true)
    }

    /// /dev/full fails every write with ENOSPC: the message says "disk full", not a Cocoa code.
    @Test func aFullDisk() throws {
        try #require(FileManager.default.fileExists(atPath: "/dev/full"), "needs Linux's /dev/full")
        let log = try OutputFile.createLog("/dev/full", wanted: "the metrics log")
        let e = error { try log.append("{\"step\":1}\n") }
        #expect(e?.description.hasPrefix("cannot write the metrics log at /dev/full: disk full") == true)
        #expect(OutputError.reason(errno: ENOSPC).hasPrefix("disk full"))
    }

    @Test func atomicWriteReplacesTheWholeFile() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/new/deeper/config.yaml"
        try OutputFile.write("a: 1\n", to: path, wanted: "the config")
        try OutputFile.write("b: 2\n", to: path, wanted: "the config")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "b: 2\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/new/deeper") == ["config.yaml"])
        try OutputFile.checkCanCreateDirectory(folder + "/not/yet/there")
        #expect(!FileManager.default.fileExists(atPath: folder + "/not"))
    }
}
