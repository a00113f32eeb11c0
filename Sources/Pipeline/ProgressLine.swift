import Foundation

/// One progress line for long work: step, loss, tokens/s and ETA. On a terminal it rewrites
/// itself in place; in a log (CI, nohup) it prints a new line at most every `interval` seconds.
public final class ProgressLine {
    private let total: Int
    private let label: String
    private let interval: Double
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let tty = isatty(STDERR_FILENO) != 0
    private let enabled: Bool

    /// `enabled` false: prints nothing (quiet runs).
    public init(label: String, total: Int, interval: Double = 10, enabled: Bool = true) {
        self.label = label
        self.total = total
        self.interval = interval
        self.enabled = enabled
    }

    /// Reports `done` of `total` units, with extra fields (e.g. "loss 1.23").
    public func update(done: Int, fields: [String], force: Bool = false) {
        guard enabled else { return }
        let now = Date()
        guard force || tty || now.timeIntervalSince(lastPrint) >= interval || done == total else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let line = "\(label) \(done)/\(total) | " + fields.joined(separator: " | ")
            + " | elapsed \(Self.duration(elapsed)) | ETA \(Self.duration(eta))"
        FileHandle.standardError.write(Data(((tty ? "\r\u{1B}[K" : "") + line + (tty ? "" : "\n")).utf8))
    }

    /// Ends an in-place line.
    public func finish() {
        if tty && enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" }
        if t >= 60 { return "\(t / 60)m\(String(format: "%02d", t % 60))s" }
        return "\(t)s"
    }
}
