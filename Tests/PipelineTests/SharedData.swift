import Foundation

/// The project's shared data folder (`../shared/data` beside the package root).
///
/// Tests that read it are marked `.enabled(if: SharedData.runnable(file))`: where the file is
/// absent the runner reports them as skipped, never as passed, except under CI (`CI` is set),
/// where the data is always present and an absent file must fail the test.
enum SharedData {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data")

    /// The absolute path of `relative` (which may not exist).
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Whether a test that needs `relative` should run: the file exists, or this is CI.
    static func runnable(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: path(relative)) || ProcessInfo.processInfo.environment["CI"] != nil
    }
}
