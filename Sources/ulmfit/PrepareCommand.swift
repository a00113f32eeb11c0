import ArgumentParser

struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prepare", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("prepare is not implemented yet") }
}
