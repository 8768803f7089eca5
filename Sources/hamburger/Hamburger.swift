import ArgumentParser

/// The `hamburger` command: serve, generate, tokenize, bench.
@main
struct HamburgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hamburger",
        abstract: "A CPU inference server for SmolLM2 with HAMburger multi-token decoding.",
        subcommands: [ServeCommand.self, GenerateCommand.self, TokenizeCommand.self, BenchCommand.self]
    )
}

/// Options every model-loading subcommand shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Path to the GGUF model file.")
    var model: String = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
}
