/// The folder part of a path, computed on the string itself.
///
/// Why not `NSString.deletingLastPathComponent`: swift-corelibs-foundation (Swift 6.3, Linux)
/// traps on a one-character relative path such as `d` (`String._startOfLastPathComponent`), and
/// `--out d` is an ordinary thing to type.
public enum PathParent {
    /// `a/b/c` -> `a/b`, `/a` -> `/`, `c` -> `` (the working directory), `a/b/` -> `a`.
    public static func of(_ path: String) -> String {
        var text = Substring(path)
        while text.count > 1, text.hasSuffix("/") { text = text.dropLast() }
        guard let slash = text.lastIndex(of: "/") else { return "" }
        if slash == text.startIndex { return "/" }
        var parent = text[..<slash]
        while parent.count > 1, parent.hasSuffix("/") { parent = parent.dropLast() }
        return String(parent)
    }
}
