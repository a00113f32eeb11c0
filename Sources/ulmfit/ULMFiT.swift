import ArgumentParser

@main
struct ULMFiT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ulmfit",
        abstract: "Genomic ULMFiT: data-parallel AWD-LSTM training on many-core CPUs.")
}
