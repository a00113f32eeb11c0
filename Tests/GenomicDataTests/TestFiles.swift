import CZlib
import Foundation
import Testing
@testable import GenomicData

/// Temporary files for tests, removed when the value goes away.
final class TestFiles {
    let folder: URL

    init() {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("genomicdata-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Writes `text` to a new file (gzip-compressed when `name` ends in .gz); returns its path.
    func write(_ name: String, _ text: String) -> String {
        write(name, bytes: name.hasSuffix(".gz") ? gzip(text) : Array(text.utf8))
    }

    /// Writes `bytes` as they are to a new file; returns its path.
    func write(_ name: String, bytes: [UInt8]) -> String {
        let path = folder.appendingPathComponent(name).path
        try! Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `text` as one gzip member (what `gzip` writes), made with zlib's own writer.
    func gzip(_ text: String) -> [UInt8] {
        let path = folder.appendingPathComponent("gzip-\(UUID().uuidString).gz").path
        let file = gzopen(path, "wb")!
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        precondition(Int(written) == bytes.count)
        gzclose(file)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return Array(try! Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
}

/// The data folder shared by the project, relative to the package root.
///
/// Tests that read it carry `.enabled(if: SharedData.runnable(...))`: where `../shared` is absent
/// the runner reports them as skipped; where the environment variable `CI` is set they always run
/// (CI always has `../shared`), so a missing file fails there instead of passing unchecked.
enum SharedData {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data")

    /// The absolute path of `relative` (which may not exist).
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Whether a test of `relative` should run: the file exists, or CI is set.
    static func runnable(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: path(relative)) || ProcessInfo.processInfo.environment["CI"] != nil
    }

    /// The path of `relative`; fails the test (rather than skipping it) when the file is absent.
    static func required(_ relative: String) throws -> String {
        let path = path(relative)
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing (CI must have ../shared/data)")
        return path
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// The error thrown by `body`, as a `DataError` (nil if none or another type).
func dataError(_ body: () throws -> Void) -> DataError? {
    do { try body() } catch let error as DataError { return error } catch { return nil }
    return nil
}
