import Foundation
import OutputFiles

/// A run's results folder. Nothing written is lost: a folder that holds another run's results is
/// refused unless the user asks to overwrite it, and that is checked, like everything else,
/// before the first file is written.
public enum RunFolder {
    /// What to do with a folder that already holds a run.
    public enum Mode: Sendable {
        /// Refuse a folder that holds another run.
        case fresh
        /// Replace the previous run's files (only those: other files stay).
        case overwrite
        /// Continue the run the folder holds (`--resume`): its files stay.
        case resume
    }

    /// The files and folders a run writes at the top of its folder (`ulmfit run` adds its stages').
    public static let runEntries = ["config.yaml", "summary.json", "vocab.json", "metrics.jsonl", "metrics.csv",
                                    "valid.jsonl", "valid.csv", "loss.svg", "accuracy.svg", "test.json",
                                    "predictions.csv", "checkpoints", "model", "data", "pretrain", "finetune", "classifier",
                                    "test"]

    /// The run files already in `path`.
    public static func existingRunEntries(_ path: String) -> [String] {
        runEntries.filter { FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent($0)) }
    }

    /// Checks, writing nothing, that a run may write to `path` (given by `source`).
    public static func check(_ path: String, source: SettingSource, mode: Mode) throws {
        do {
            try OutputFile.checkCanCreateDirectory(path)
        } catch let error as OutputError {
            throw RunConfigError(source: source, key: "out", error.description)
        }
        if let checkpoint = InputFiles.enclosingCheckpoint(of: (path as NSString).appendingPathComponent("x")) {
            throw RunConfigError(source: source, key: "out", "\(ConfigPath.display(path)) lies inside the checkpoint "
                + "\(ConfigPath.display(checkpoint)): a checkpoint is written whole by its run and never changed; choose another folder")
        }
        let previous = existingRunEntries(path)
        if case .fresh = mode, !previous.isEmpty {
            throw RunConfigError(source: source, key: "out", "\(ConfigPath.display(path)) holds another run ("
                + previous.joined(separator: ", ") + "): choose another folder, or pass --overwrite to replace it")
        }
    }

    /// Creates `path` and takes its lock (`RunFolderLock`: one writer per folder; keep the value
    /// for as long as the run writes). With `.overwrite`, the previous run's files are set aside
    /// in `path/.replaced`, not removed: the new run may fail before it has anything to replace
    /// them with (`restoreReplaced`); once it has, `discardReplaced` removes them. When
    /// `.replaced` is already there, an earlier `--overwrite` never completed: it holds the last
    /// complete run, and the files beside it (that attempt's) are removed instead.
    /// - Throws: `RunFolderLock.Held` when another process writes the folder (nothing is touched).
    @discardableResult
    public static func prepare(_ path: String, mode: Mode) throws -> RunFolderLock {
        try OutputFile.makeDirectory(path)
        let lock = try RunFolderLock(folder: path)
        guard case .overwrite = mode else { return lock }
        let aside = (path as NSString).appendingPathComponent(replacedName)
        let keepAside = !FileManager.default.fileExists(atPath: aside)
        for entry in existingRunEntries(path) {
            let full = (path as NSString).appendingPathComponent(entry)
            do {
                if keepAside {
                    try OutputFile.makeDirectory(aside, wanted: "the previous run, set aside")
                    try FileManager.default.moveItem(atPath: full, toPath: (aside as NSString).appendingPathComponent(entry))
                } else {
                    try FileManager.default.removeItem(atPath: full)
                }
            } catch let error as OutputError {
                throw error
            } catch {
                throw OutputError(path: full, wanted: "the previous run's file set aside", reason: "cannot move or remove it")
            }
        }
        return lock
    }

    /// The folder inside a run folder where `--overwrite` keeps the previous run until the new one replaces it.
    public static let replacedName = ".replaced"

    /// The new run has something to replace the previous one with (a checkpoint, or it finished):
    /// the previous run's files set aside by `--overwrite` are removed.
    public static func discardReplaced(_ path: String) {
        try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(replacedName))
    }

    /// The new run failed before it had anything to keep: its files are removed and the previous
    /// run's, set aside by `--overwrite`, are put back. Returns whether there was one to put back.
    @discardableResult
    public static func restoreReplaced(_ path: String) -> Bool {
        let aside = (path as NSString).appendingPathComponent(replacedName)
        guard FileManager.default.fileExists(atPath: aside) else { return false }
        for entry in existingRunEntries(path) {
            try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(entry))
        }
        for entry in existingRunEntries(aside) {
            try? FileManager.default.moveItem(atPath: (aside as NSString).appendingPathComponent(entry),
                                              toPath: (path as NSString).appendingPathComponent(entry))
        }
        try? FileManager.default.removeItem(atPath: aside)
        return true
    }

    /// Whether the run in `path` has written a checkpoint.
    static func hasCheckpoint(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("checkpoints/latest"))
    }
}
