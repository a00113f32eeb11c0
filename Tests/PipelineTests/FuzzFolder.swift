import Foundation

/// The scratch folder of one fuzz suite (`ReaderFuzzTests`, `CommandInputFuzzTests`): damaged
/// copies of valid files are written into it, and it is removed with the value.
final class FuzzFolder {
    let url: URL

    init(prefix: String) {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the folder.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `bytes` as they are to `name` inside the folder; returns its path.
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
