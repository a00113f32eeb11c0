import Foundation
import OutputFiles

extension RunConfig {
    /// The config as YAML, as a run writes it to `OUT/config.yaml`: the `keys` a command uses,
    /// in schema order, each with where its value came from as a comment, and unset keys as
    /// comments saying what unset means. Paths are written relative to `folder`, the folder the
    /// file goes to, so reading it back (`--config OUT/config.yaml`) gives this config again.
    public func yaml(keys: [ConfigKey], folder: String, header: String) -> String {
        var text = header.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)\n" }.joined()
        var section: String?
        for key in keys {
            if key.section != section, !key.section.isEmpty {
                section = key.section
                text += "\(key.section):\n"
            }
            let indent = key.section.isEmpty ? "" : "  "
            if let value = key.yaml(self, folder) {
                text += "\(indent)\(key.name): \(value)  # \(source(of: key.path))\n"
            } else {
                text += "\(indent)# \(key.name): unset (\(key.unset ?? "none"))\n"
            }
        }
        return text
    }

    /// Writes `yaml(keys:folder:header:)` atomically to `path`.
    public func write(keys: [ConfigKey], to path: String, header: String) throws {
        let folder = ConfigPath.folder(of: path)
        try OutputFile.write(yaml(keys: keys, folder: folder, header: header), to: path, wanted: "the resolved config")
    }
}
