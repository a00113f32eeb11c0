import ArgumentParser
import Pipeline

/// `--config FILE` and `--set KEY=VALUE`: the config file under a command's options.
struct ConfigOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A YAML config (configs/*.yaml, or a run's config.yaml); options given on the command line "
        + "override its values, and its relative paths are relative to its own folder.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Set any config key, e.g. --set classifier.lr=1e-2 "
        + "(repeatable; the value as in a config file).", valueName: "key=value"))
    var assignments: [String] = []

    /// The config file's settings with `overrides` and `--set` on top (over a resumed run's
    /// recorded settings, if any), all through the same checks.
    func resolve(_ overrides: [ConfigOverride?], exclusive: [[String]] = [], resumed: ResumePoint? = nil) throws -> RunConfig {
        let all = overrides.compactMap { $0 } + (try assignments.map(ConfigOverride.assignment))
        return try RunConfig.resolve(file: config, overrides: all, exclusive: exclusive, resumed: resumed)
    }
}

extension ArgumentHelp {
    /// The help of a config key: its description and its default, from the schema.
    static func key(_ path: String) -> ArgumentHelp { ArgumentHelp(ConfigSchema.help(path)) }
}
