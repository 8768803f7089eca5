import Dispatch
import Engine
import Foundation
import Hamburger
import KVCache
import Llama
import Synchronization
import Tokenization

/// `hamburger bench --capacity`: how many sequences a fixed KV budget holds. `requests` chat requests
/// (the bench prompts, rendered with the model's template, so they share its system prompt) are
/// submitted at once into an engine whose KV cache is `budgetBytes`, each generating `maxTokens` tokens
/// (end-of-sequence ignored); for each configuration (decoding mode x KV element type x prefix caching)
/// the table gives the sequences running (mean over iterations, mean over the iterations that left
/// requests waiting, and peak), preemptions, aggregate tok/s, time to first token (p50 / p99) and the
/// KV entries and bytes stored per generated token.
struct CapacityBench {
    let modelOptions: ModelOptions
    let budgetBytes: Int
    let requests: Int
    let maxTokens: Int
    let modes: [String]
    let kvTypes: [KVElementType]
    let prefixCaching: [Bool]
    let adapterPath: String
    let confidence: Double?
    let minProbability: Double?
    let json: Bool

    struct Result: Encodable {
        let decoding: String
        let kv_cache_dtype: String
        let prefix_caching: Bool
        let kv_budget_bytes: Int
        let kv_blocks: Int
        let requests: Int
        let max_tokens: Int
        let mean_running: Double
        /// Mean sequences running over the iterations that left requests waiting: what the budget
        /// holds while demand exceeds it (the closed loop's tail, as the last requests finish, is out).
        let saturated_mean_running: Double
        let peak_running: Int
        let preemptions: Int
        let tokens_per_second: Double
        let ttft_p50_ms: Double
        let ttft_p99_ms: Double
        let kv_entries_per_generated_token: Double
        let kv_bytes_per_generated_token: Double
        let cached_prompt_tokens: Int
        let seconds: Double
    }

    func run() throws {
        let model = try modelOptions.loadModel()
        let adapter = modes.contains("hamburger")
            ? try CommandSupport.loadHamburger(model: model, modelPath: modelOptions.model, adapterPath: adapterPath) : nil
        let prompts = try BenchEngine.chatPrompts(BenchPrompts.userMessages, modelPath: modelOptions.model)
        if !json {
            print("capacity: \(requests) chat requests x \(maxTokens) tokens at once, KV budget \(budgetBytes >> 20) MiB, \(modelOptions.weights) weights")
            print("mode            KV        prefix  blocks  running mean/saturated/peak  preempt  tok/s   TTFT p50/p99 ms   KV entries/tok  KV bytes/tok  cached")
        }
        for mode in modes {
            for kvType in kvTypes {
                for caching in prefixCaching {
                    let result = try measure(mode: mode, kvType: kvType, caching: caching, model: model, adapter: adapter, prompts: prompts)
                    if json {
                        print(CommandSupport.jsonLine(result))
                    } else {
                        let names = mode.padding(toLength: 15, withPad: " ", startingAt: 0) + " "
                            + kvType.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + " "
                            + (caching ? "on" : "off").padding(toLength: 6, withPad: " ", startingAt: 0)
                        print(names + String(format: " %6d  %8.1f / %5.1f / %-5d  %7d  %6.1f  %7.0f / %-7.0f  %14.3f  %12.0f  %6d", result.kv_blocks,
                                   result.mean_running, result.saturated_mean_running, result.peak_running, result.preemptions, result.tokens_per_second,
                                     result.ttft_p50_ms, result.ttft_p99_ms, result.kv_entries_per_generated_token,
                                     result.kv_bytes_per_generated_token, result.cached_prompt_tokens))
                    }
                }
            }
        }
    }

    private func measure(mode: String, kvType: KVElementType, caching: Bool, model: LlamaModel, adapter: HamburgerAdapter?,
                         prompts: [[Int32]]) throws -> Result {
        let budget = budgetBytes
        let bench = try BenchEngine(model: model, slots: requests, kvType: kvType, mode: mode, adapter: adapter, confidence: confidence,
                                    minProbability: minProbability) { config in
            config.kvCapacity = .bytes(budget)
            config.enablePrefixCaching = caching
        }
        defer { bench.shutdown() }
        let engine = bench.engine
        let all = (0..<requests).map { i in
            GenerationRequest(id: "capacity-\(i)", promptTokenIds: prompts[i % prompts.count], sampling: .greedy,
                              maxTokens: maxTokens, ignoresEndOfSequence: true, decoding: bench.decoding)
        }
        // Time to first token per request, from the common start.
        let firstTokenAt = Mutex<[String: UInt64]>([:])
        let done = DispatchSemaphore(value: 0)
        let cached = Mutex(0)
        let start = DispatchTime.now().uptimeNanoseconds
        for request in all {
            try engine.submit(request) { event in
                switch event {
                case .tokens:
                    firstTokenAt.withLock { if $0[request.id] == nil { $0[request.id] = DispatchTime.now().uptimeNanoseconds } }
                case .promptLogprobs:
                    break  // not asked for here
                case let .finished(_, _, _, cachedTokens):
                    cached.withLock { $0 += cachedTokens }
                    done.signal()
                case .failed:
                    done.signal()
                }
            }
        }
        for _ in all { done.wait() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let stats = engine.stats()
        let generated = stats.generationTokensTotal
        // Base KV entries written for generated tokens: one per macro step with HAMburger, one per
        // token (but the last, never fed back) autoregressively.
        let entriesPerToken = mode == "hamburger" && stats.hamburgerTokensTotal > 0
            ? Double(stats.hamburgerMacroStepsTotal) / Double(stats.hamburgerTokensTotal) : 1
        let ttft = firstTokenAt.withLock { $0.values.map { Double($0 - start) / 1e6 } }.sorted()
        let reports = bench.reports
        let counts = reports.map(\.runningCount)
        let saturated = reports.filter { $0.waitingCount > 0 }.map(\.runningCount)
        return Result(
            decoding: mode, kv_cache_dtype: kvType.rawValue, prefix_caching: caching, kv_budget_bytes: budgetBytes,
            kv_blocks: engine.kvLayout.blockCount, requests: requests, max_tokens: maxTokens,
            mean_running: Self.mean(counts), saturated_mean_running: Self.mean(saturated), peak_running: counts.max() ?? 0,
            preemptions: stats.preemptionsTotal, tokens_per_second: Double(generated) / seconds,
            ttft_p50_ms: Self.percentile(ttft, 0.5), ttft_p99_ms: Self.percentile(ttft, 0.99),
            kv_entries_per_generated_token: entriesPerToken,
            kv_bytes_per_generated_token: entriesPerToken * Double(engine.kvLayout.bytesPerEntry),
            cached_prompt_tokens: cached.withLock { $0 }, seconds: seconds)
    }

    static func mean(_ values: [Int]) -> Double {
        values.isEmpty ? 0 : Double(values.reduce(0, +)) / Double(values.count)
    }

    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
    }
}
