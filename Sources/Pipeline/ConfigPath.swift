import Foundation

/// Paths in configs. A relative path inside a config file is relative to that file's folder (as
/// every tool that reads configs does), so a config means the same from any working directory;
/// one given on the command line is relative to the working directory. Resolved paths are kept
/// absolute and lexically normalized, so the same file always compares equal.
public enum ConfigPath {
    /// `path` made absolute against `base` (a folder; nil: the working directory), normalized.
    public static func resolve(_ path: String, against base: String? = nil) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        let folder = base.map { $0.hasPrefix("/") ? $0 : cwd + "/" + $0 } ?? cwd
        return normalize(folder + "/" + path)
    }

    /// The folder holding the file `path`, absolute.
    public static func folder(of path: String) -> String {
        (resolve(path) as NSString).deletingLastPathComponent
    }

    /// `path` (absolute) as written from inside `folder` (absolute): `../data/x.csv`.
    public static func relative(_ path: String, from folder: String) -> String {
        let target = normalize(path).split(separator: "/"), base = normalize(folder).split(separator: "/")
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        let ups = Array(repeating: "..", count: base.count - common)
        let parts = ups + target[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// `path` for messages: relative to the working directory when inside it, else absolute.
    public static func display(_ path: String) -> String {
        let absolute = resolve(path)
        let here = normalize(cwd)
        if absolute == here { return "." }
        return absolute.hasPrefix(here + "/") ? String(absolute.dropFirst(here.count + 1)) : absolute
    }

    /// Removes `.`, empty components and `x/..` pairs of an absolute path (no file system access:
    /// symbolic links are kept as written).
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    private static var cwd: String { FileManager.default.currentDirectoryPath }
}
