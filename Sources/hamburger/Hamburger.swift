import ArgumentParser
import Kernels
import KVCache
import Llama

/// The `hamburger` command: serve, generate, tokenize, bench, perplexity.
@main
struct HamburgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hamburger",
        abstract: "A CPU inference server for SmolLM2 with HAMburger multi-token decoding.",
        subcommands: [ServeCommand.self, GenerateCommand.self, TokenizeCommand.self, BenchCommand.self, PerplexityCommand.self,
                      ScoreCommand.self]
    )

    /// Process-wide settings first, then the subcommand. OpenBLAS runs single-threaded: every Float
    /// product already splits over the model's `ThreadPool` (one OpenBLAS call per part), and OpenBLAS's
    /// own threads would fight the pool's workers for the cores. The one place this is set.
    static func main() {
        setBLASThreadCount(1)
        main(nil)
    }
}

/// Options every model-loading subcommand shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Path to the GGUF model file.")
    var model: String = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    @Option(help: "How weights are kept: native-int8x2 (the file's quantized blocks repacked, integer products on two-digit int8 activations), native (the blocks in place, float activations: the exact reference), native-int8 (one digit: fastest, below the quality bar), bf16 or f32.")
    var weights: WeightPrecision = .nativeInt8x2

    @Option(help: "Compute threads (0 = all cores).")
    var threads: Int = 0

    @Option(help: "How KV entries are stored: float32, bfloat16, float16 (half the memory) or int8 (groups of 32 with a scale, 0.28x).")
    var kvCacheDtype: KVElementType = .float32

    /// Loads the model as these options say.
    func loadModel() throws -> LlamaModel {
        try CommandSupport.loadModel(model, precision: weights, threads: threads)
    }
}

extension WeightPrecision: ExpressibleByArgument {}
extension KVElementType: ExpressibleByArgument {}
