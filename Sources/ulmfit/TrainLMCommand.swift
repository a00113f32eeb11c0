import ArgumentParser

struct TrainLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train-lm", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("train-lm is not implemented yet") }
}
