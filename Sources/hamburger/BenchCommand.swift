import ArgumentParser
import Foundation
import KVCache
import Kernels
import Llama

/// `hamburger bench`: prefill and decode throughput of the model on this machine (medians of runs).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill tok/s and single-stream decode tok/s (median of several runs)."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Prompt length for the prefill measurement.")
    var promptTokens: Int = 512

    @Option(help: "Tokens generated for the decode measurement.")
    var decodeTokens: Int = 128

    @Option(help: "Repetitions; the median is reported.")
    var runs: Int = 3

    @Option(help: "Comma-separated concurrency levels (e.g. 1,4,16,32): measure the batching engine instead of the raw model.")
    var concurrency: String?

    @Option(help: "Tokens generated per request at each concurrency level (end-of-sequence ignored).")
    var maxTokens: Int = 128

    @Option(help: "Decoding mode for --concurrency: autoregressive, hamburger, or both (same chat prompts, ratios printed).")
    var decoding: String = "autoregressive"

    @OptionGroup var hamburgerOptions: HamburgerOptions

    @Flag(help: "Capacity: submit --requests chat requests at once into a --kv-budget-mib KV cache and report the sequences running, preemptions, tok/s, TTFT and KV per token for each --decoding mode, --kv-types type and --prefix-caching setting.")
    var capacity = false

    @Option(help: "With --capacity: the KV cache size in MiB.")
    var kvBudgetMib: Int = 48

    @Option(help: "With --capacity: requests submitted at once.")
    var requests: Int = 48

    @Option(help: "With --capacity: comma-separated KV element types (float32, bfloat16, float16, int8).")
    var kvTypes: String = "float32,float16"

    @Option(help: "With --capacity: comma-separated prefix-caching settings (on, off).")
    var prefixCaching: String = "off,on"

    @Flag(help: "Constraint overhead: the same JSON-asking chat prompts unconstrained and under a response_format schema, alternating, at each --concurrency level (default 1,16) and --decoding mode; median ms per generated token, tokens per macro step, forced-token share.")
    var constraintOverhead = false

    @Flag(help: "Print JSON (one object, or one per concurrency level) instead of a table.")
    var json = false

    func validate() throws {
        guard promptTokens > 0, decodeTokens > 0, runs > 0 else {
            throw ValidationError("--prompt-tokens, --decode-tokens and --runs must be positive")
        }
    }

    func run() throws {
        if constraintOverhead {
            let levels = (concurrency ?? "1,16").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let modes = decoding == "both" ? ["autoregressive", "hamburger"] : [decoding]
            guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 }), modes.allSatisfy({ $0 == "autoregressive" || $0 == "hamburger" }), runs >= 2 else {
                throw ValidationError("--constraint-overhead takes --concurrency levels > 0, --decoding autoregressive|hamburger|both and --runs >= 2")
            }
            try ConstraintBench(modelOptions: modelOptions, levels: levels, maxTokens: maxTokens, runs: runs, modes: modes,
                                adapterPath: hamburgerOptions.adapter, confidence: hamburgerOptions.confidence, minProbability: hamburgerOptions.minProbability).run()
            return
        }
        if capacity {
            let modes = decoding == "both" ? ["autoregressive", "hamburger"] : [decoding]
            guard modes.allSatisfy({ $0 == "autoregressive" || $0 == "hamburger" }) else {
                throw ValidationError("--decoding must be 'autoregressive', 'hamburger' or 'both'")
            }
            let types = try kvTypes.split(separator: ",").map { name in
                guard let type = KVElementType(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--kv-types takes float32, bfloat16 and float16, comma-separated; got '\(name)'")
                }
                return type
            }
            let caching = try prefixCaching.split(separator: ",").map { setting in
                switch setting.trimmingCharacters(in: .whitespaces) {
                case "on": return true
                case "off": return false
                default: throw ValidationError("--prefix-caching takes on and off, comma-separated; got '\(setting)'")
                }
            }
            guard kvBudgetMib > 0, requests > 0, maxTokens > 0, !types.isEmpty, !caching.isEmpty else {
                throw ValidationError("--kv-budget-mib, --requests and --max-tokens must be positive, with at least one KV type and prefix setting")
            }
            try CapacityBench(modelOptions: modelOptions, budgetBytes: kvBudgetMib << 20, requests: requests, maxTokens: maxTokens,
                              modes: modes, kvTypes: types, prefixCaching: caching, adapterPath: hamburgerOptions.adapter,
                              confidence: hamburgerOptions.confidence, minProbability: hamburgerOptions.minProbability, json: json).run()
            return
        }
        if let concurrency {
            let levels = concurrency.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--concurrency takes positive integers separated by commas, e.g. 1,4,16,32")
            }
            let modes: [String]
            switch decoding {
            case "autoregressive", "hamburger": modes = [decoding]
            case "both": modes = ["autoregressive", "hamburger"]
            default: throw ValidationError("--decoding must be 'autoregressive', 'hamburger' or 'both'")
            }
            try EngineBench(modelOptions: modelOptions, levels: levels, promptTokens: promptTokens, maxTokens: maxTokens, json: json,
                            modes: modes, adapterPath: hamburgerOptions.adapter, confidence: hamburgerOptions.confidence, minProbability: hamburgerOptions.minProbability).run()
            return
        }
        let model = try modelOptions.loadModel()
        let hp = model.hyperparameters
        guard promptTokens + decodeTokens <= hp.contextLength else {
            throw ValidationError("--prompt-tokens + --decode-tokens must fit the context (\(hp.contextLength))")
        }
        let blockSize = 16
        let blockCount = (promptTokens + decodeTokens + blockSize - 1) / blockSize
        let pages = KVPages(layout: model.kvLayout(blockSize: blockSize, blockCount: blockCount, elementType: modelOptions.kvCacheDtype))
        let table = (0..<blockCount).map(Int32.init)
        // A fixed pseudo-random prompt of ordinary tokens.
        let prompt: [Int32] = (0..<promptTokens).map { Int32(1000 + ($0 * 7919) % 20000) }

        var prefillRates: [Double] = []
        var decodeRates: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now()
            let out = model.forward(ForwardBatch(
                inputs: prompt.map { .token($0) }, positions: (0..<promptTokens).map(Int32.init),
                slices: [.init(blockTable: table, cachedEntryCount: 0, rowStart: 0, rowCount: promptTokens, wantsOutput: true)]
            ), pages: pages)
            prefillRates.append(Double(promptTokens) / CommandSupport.seconds(since: start))

            var token = Int32(out.logits.withUnsafeBufferPointer { argmax(UnsafeBufferPointer(rebasing: $0[..<hp.vocabSize])) })
            let decodeStart = DispatchTime.now()
            for step in 0..<decodeTokens {
                let position = promptTokens + step
                let o = model.forward(ForwardBatch(
                    inputs: [.token(token)], positions: [Int32(position)],
                    slices: [.init(blockTable: table, cachedEntryCount: position, rowStart: 0, rowCount: 1, wantsOutput: true)]
                ), pages: pages)
                token = Int32(o.logits.withUnsafeBufferPointer { argmax(UnsafeBufferPointer(rebasing: $0[..<hp.vocabSize])) })
            }
            decodeRates.append(Double(decodeTokens) / CommandSupport.seconds(since: decodeStart))
        }
        let prefill = CommandSupport.median(prefillRates), decode = CommandSupport.median(decodeRates)
        if json {
            print(#"{"prompt_tokens": \#(promptTokens), "decode_tokens": \#(decodeTokens), "runs": \#(runs), "prefill_tokens_per_second": \#(String(format: "%.1f", prefill)), "decode_tokens_per_second": \#(String(format: "%.1f", decode))}"#)
        } else {
            print("model:   \(modelOptions.model) (\(modelOptions.weights) weights, \(modelOptions.kvCacheDtype) KV)")
            print("prefill: \(String(format: "%.1f", prefill)) tok/s (\(promptTokens) tokens, median of \(runs))")
            print("decode:  \(String(format: "%.1f", decode)) tok/s (single stream, \(decodeTokens) tokens, median of \(runs))")
        }
    }
}
