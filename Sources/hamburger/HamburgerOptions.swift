import ArgumentParser

/// The HAMburger options every engine-driving subcommand shares (`generate`, `bench`): which adapter, and
/// the per-run confidence and micro-token floor (each defaulting to the adapter's own), range-checked once.
struct HamburgerOptions: ParsableArguments {
    @Option(help: "HAMburger adapter JSON (its safetensors file sits beside it); used with --decoding hamburger (bench: or both).")
    var adapter: String = CommandSupport.defaultAdapterPath

    @Option(help: "HAMburger confidence in (0, 1]: a macro step ends once 1 - stop < confidence (default: the adapter's).")
    var confidence: Double?

    @Option(help: "HAMburger micro-token probability floor in [0, 1): a micro token the micro decoder gives less is dropped and its group ends (default: the adapter's).")
    var minProbability: Double?

    func validate() throws {
        if let problem = CommandSupport.checkConfidence(confidence) { throw ValidationError(problem) }
        if let problem = CommandSupport.checkMinProbability(minProbability) { throw ValidationError(problem) }
    }
}
