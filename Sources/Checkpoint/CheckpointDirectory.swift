import Foundation
import OutputFiles

/// The layout of a run's checkpoints and how a path given by the user resolves to one.
///
///     RUN/checkpoints/step-000100/   manifest.json, SHA256SUMS, shard-*.safetensors
///     RUN/checkpoints/step-000200/
///     RUN/checkpoints/latest         "step-000200"
///
/// A path is a checkpoint folder (it holds `manifest.json`; used as given, no fallback) or a
/// run folder (it holds `checkpoints/`): then the newest checkpoint that verifies is used, and
/// each newer one skipped is reported with the reason.
public enum CheckpointDirectory {
    public static let manifestFile = "manifest.json"
    public static let sumsFile = "SHA256SUMS"
    public static let latestFile = "latest"

    /// `step-000123` (at least six digits; longer numbers keep all theirs).
    public static func folderName(step: Int) -> String { String(format: "step-%06d", step) }

    /// The step of a folder named `step-N`, nil for any other name.
    public static func step(ofFolder name: String) -> Int? {
        guard name.hasPrefix("step-"), let n = Int(name.dropFirst(5)), n >= 0,
              folderName(step: n) == name else { return nil }
        return n
    }

    /// Steps of the `step-N` folders in `directory` (`RUN/checkpoints`), unordered.
    public static func checkpointSteps(in directory: String) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap { step(ofFolder: $0) }
    }

    /// Removes what crashed writers left in `directory`: `.tmp-*` folders and files.
    static func removeTemporaryFolders(in directory: String) throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".tmp-") {
            let path = (directory as NSString).appendingPathComponent(name)
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw CheckpointError(file: path, "a crashed writer's temporary folder cannot be removed: \(FileIO.reason())")
            }
        }
    }

    /// A checkpoint chosen for `path`, with why newer ones were passed over.
    public struct Resolution: Sendable {
        public let checkpoint: Checkpoint
        /// One line per newer checkpoint that was skipped, with its error.
        public let skipped: [String]

        /// "using runs/lm/checkpoints/step-000100 (skipped step-000200: ...)" or just the path.
        public var summary: String {
            "using \(checkpoint.path)" + (skipped.isEmpty ? "" : " (skipped " + skipped.joined(separator: "; ") + ")")
        }
    }

    /// Resolves `path` (a run folder or a checkpoint folder) to a verified checkpoint.
    /// - Throws: `CheckpointError` naming the path: not a run or checkpoint folder, an old-format
    ///   model folder, or no checkpoint that verifies (each one's error listed).
    public static func resolve(_ path: String, verifyChecksums: Bool = true) throws -> Resolution {
        let manifest = (path as NSString).appendingPathComponent(manifestFile)
        if FileManager.default.fileExists(atPath: manifest) {
            return Resolution(checkpoint: try Checkpoint.open(path, verifyChecksums: verifyChecksums), skipped: [])
        }
        let directory = (path as NSString).appendingPathComponent("checkpoints")
        guard OutputFile.isDirectory(directory) else {
            if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model.json")) {
                throw CheckpointError(file: path, "is a model folder of the old format (model.json, params.bin), which "
                    + "this build no longer reads; train again to get a run folder with checkpoints/")
            }
            let exists = FileManager.default.fileExists(atPath: path)
            throw CheckpointError(file: path, exists
                ? "is neither a run folder (no checkpoints/ in it) nor a checkpoint folder (no \(manifestFile) in it)"
                : "does not exist")
        }
        let steps = checkpointSteps(in: directory).sorted(by: >)
        guard !steps.isEmpty else {
            throw CheckpointError(file: directory, "holds no checkpoint (no step-N folder)")
        }
        var skipped: [String] = []
        for step in steps {
            let folder = (directory as NSString).appendingPathComponent(folderName(step: step))
            do {
                let checkpoint = try Checkpoint.open(folder, verifyChecksums: verifyChecksums)
                return Resolution(checkpoint: checkpoint, skipped: skipped)
            } catch let error as CheckpointError {
                skipped.append("\(folderName(step: step)): \(error)")
            }
        }
        throw CheckpointError(file: directory, "no checkpoint in it verifies: " + skipped.joined(separator: "; "))
    }
}
