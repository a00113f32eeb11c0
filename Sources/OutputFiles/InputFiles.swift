import Foundation

/// The files one command reads, identified by `FileIdentity` before it does any work, and the
/// checks every command makes with them:
/// - the same file given twice (two spellings, a symbolic link) is refused: read twice, it would
///   count twice, and a genome's copy would land in train while the original is in valid;
/// - an output that is one of the inputs is refused: writing it would destroy what is being read;
/// - an output inside a checkpoint folder (`RUN/checkpoints/step-N/`) is refused: a checkpoint is
///   only ever written whole, by its run.
///
/// A path that does not exist yet is not identified here: its reader names it when it fails.
public struct InputFiles: Sendable {
    /// One identified input: what gave it (an option such as `--fasta`), the path as given.
    public struct Entry: Sendable, Equatable {
        public let role: String
        public let path: String
        public let identity: FileIdentity
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    /// `path` as a message names it: after its role (`--fasta g.fa`), or alone for a positional input.
    static func named(_ path: String, _ role: String) -> String { role.isEmpty ? path : "\(role) \(path)" }

    /// Identifies the input `path`, given by `role` (e.g. `--fasta`; "" for a positional input).
    /// - Throws: `FileConflictError` when it is a file already added.
    public mutating func add(_ path: String, role: String) throws {
        guard let identity = FileIdentity(path: path) else { return }
        if let first = entries.first(where: { $0.identity == identity }) {
            let how = first.path == path ? "given twice" : "the same file as \(Self.named(first.path, first.role))"
            throw FileConflictError("\(Self.named(path, role)) is \(how): each input is read once (as it is, "
                + "it would be counted twice, and its copy could land in another split): give it once")
        }
        entries.append(Entry(role: role, path: path, identity: identity))
    }

    /// `add` for each of `paths`.
    public mutating func add(_ paths: [String], role: String) throws {
        for path in paths { try add(path, role: role) }
    }

    /// Identifies the checkpoint files a model is read from: those of `path`'s `checkpoints`
    /// folder for a run folder, else of the checkpoint folder `path` itself, so that no output may
    /// replace one of them. (A run's other files, such as `test.json`, are not read.)
    public mutating func addCheckpoints(of path: String, role: String) {
        let checkpoints = (path as NSString).appendingPathComponent("checkpoints")
        let root = FileManager.default.fileExists(atPath: checkpoints) ? checkpoints : path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return }
        while let name = enumerator.nextObject() as? String {
            let full = (root as NSString).appendingPathComponent(name)
            // Files met twice (links) are not an error here: no file is read twice because of them.
            guard let identity = FileIdentity(path: full), !entries.contains(where: { $0.identity == identity }) else { continue }
            entries.append(Entry(role: role, path: full, identity: identity))
        }
    }

    /// Refuses the output file `path` (given by `role`, e.g. `--out`) when it is one of the inputs
    /// or lies inside a checkpoint folder.
    public func checkOutput(_ path: String, role: String) throws {
        if let identity = FileIdentity(path: path), let input = entries.first(where: { $0.identity == identity }) {
            let same = input.path == path ? "" : " (\(input.path))"
            let which = input.role.isEmpty ? "an input" : "the input \(input.role)"
            throw FileConflictError("\(Self.named(path, role)) is \(which)\(same): writing it would replace "
                + "what this command reads; choose another path")
        }
        if let checkpoint = Self.enclosingCheckpoint(of: path) {
            throw FileConflictError("\(role) \(path) lies inside the checkpoint \(checkpoint): a checkpoint is written "
                + "whole by its run and never changed; choose a path outside it")
        }
    }

    /// `checkOutput` for each file `names` a command writes into the folder `folder`.
    public func checkOutputs(in folder: String, _ names: [String], role: String) throws {
        for name in names { try checkOutput((folder as NSString).appendingPathComponent(name), role: role) }
        if FileIdentity(path: folder) != nil, let checkpoint = Self.enclosingCheckpoint(of: folder + "/x") {
            throw FileConflictError("\(role) \(folder) lies inside the checkpoint \(checkpoint): choose a folder outside it")
        }
    }

    /// The checkpoint folder (one holding `manifest.json`, inside a `checkpoints` folder) that
    /// `path`'s folder is or lies in, or nil.
    public static func enclosingCheckpoint(of path: String) -> String? {
        var folder = PathParent.of(URL(fileURLWithPath: path).standardizedFileURL.path)
        while folder != "/" && !folder.isEmpty {
            let parent = PathParent.of(folder)
            if (parent as NSString).lastPathComponent == "checkpoints",
               FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("manifest.json")) {
                return folder
            }
            folder = parent
        }
        return nil
    }
}
