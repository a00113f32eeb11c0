/// Where a setting's value came from, kept beside the value so that a check made long after
/// reading (a vocabulary's k, a layout that does not fit the machine) can name it.
public enum SettingSource: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A line of a config file (line nil: the file as a whole).
    case file(String, line: Int?)
    /// A command-line option, as typed (`--lr`, or `--set training.lr`).
    case flag(String)
    /// The built-in default (the options types of the runs and trainers).
    case builtIn

    /// `configs/x.yaml:7`, `--lr` or `the default`.
    public var description: String {
        switch self {
        case let .file(path, line): return line.map { "\(path):\($0)" } ?? path
        case let .flag(name): return name
        case .builtIn: return "the default"
        }
    }
}
