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

    /// Creates `path`; with `.overwrite`, first removes the previous run's files.
    public static func prepare(_ path: String, mode: Mode) throws {
        if case .overwrite = mode {
            for entry in existingRunEntries(path) {
                let full = (path as NSString).appendingPathComponent(entry)
                do {
                    try FileManager.default.removeItem(atPath: full)
                } catch {
                    throw OutputError(path: full, wanted: "the previous run's file removed", reason: "cannot remove it")
                }
            }
        }
        try OutputFile.makeDirectory(path)
    }
}
