import ArgumentParser

/// The `hamburger` command: serve, generate, tokenize, bench.
@main
struct HamburgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hamburger",
        abstract: "A CPU inference server for SmolLM2 with HAMburger multi-token decoding.",
        subcommands: []
    )
}
