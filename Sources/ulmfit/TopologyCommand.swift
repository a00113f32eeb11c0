import ArgumentParser

struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topology", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("topology is not implemented yet") }
}
