import Engine
import Foundation
import Hamburger
import Llama
import Synchronization
import Tokenization

/// `hamburger bench --concurrency ...`: aggregate generated tok/s of the continuous-batching engine at
/// each concurrency level and decoding mode, with the per-iteration time and the KV cache it needed.
/// Every request of a level generates `maxTokens` tokens (end-of-sequence ignored). Autoregressive
/// alone runs fixed pseudo-random prompts of `promptTokens` ids; with HAMburger (`hamburger` or
/// `both`) every mode runs the same chat prompts (`BenchPrompts`), and the table adds tokens per macro
/// step, KV entries per generated token, how many such sequences fit a fixed KV budget, and the
/// hamburger / autoregressive ratios.
struct EngineBench {
    let modelOptions: ModelOptions
    let levels: [Int]
    let promptTokens: Int
    let maxTokens: Int
    let json: Bool
    /// "autoregressive", "hamburger", or both in that order.
    var modes: [String] = ["autoregressive"]
    var adapterPath: String = CommandSupport.defaultAdapterPath
    var confidence: Double?
    var minProbability: Double?

    /// The fixed KV budget (entries) for the "sequences that fit" column.
    static let kvBudget = 2048

    struct LevelResult: Encodable {
        let concurrency: Int
        let decoding: String
        let tokens_per_second: Double
        let generated_tokens: Int
        let seconds: Double
        let step_ms_median: Double
        let decode_step_ms_median: Double
        let iterations: Int
        let kv_blocks_used_max: Int
        let kv_blocks_total: Int
        let kv_entries_used_max: Int
        let preemptions: Int
        let macro_steps: Int
        let tokens_per_macro_step: Double
        /// Base KV entries written for generated tokens (one per macro step) per generated token.
        let kv_entries_per_generated_token: Double
        let mean_prompt_tokens: Double
        /// floor(budget / (mean prompt + mean entries for `maxTokens` generated tokens)).
        let sequences_in_kv_budget: Int
        let kv_budget_entries: Int
    }

    struct Ratios: Encodable {
        let concurrency: Int
        let ratio: String
        let tokens_per_second: Double
        let tokens_per_macro_step: Double
        let kv_entries_per_generated_token: Double
        let sequences_in_kv_budget: Double
    }

    func run() throws {
        let model = try modelOptions.loadModel()
        let usesHamburger = modes.contains("hamburger")
        let hamburger = usesHamburger ? try CommandSupport.loadHamburger(model: model, modelPath: modelOptions.model, adapterPath: adapterPath) : nil
        let prompts = try self.prompts(chat: usesHamburger)
        if !json {
            let meanPrompt = Double(prompts.reduce(0) { $0 + $1.count }) / Double(max(prompts.count, 1))
            let confidenceText = hamburger.map {
                "  confidence: \(confidence ?? $0.defaultConfidence), min probability: \(minProbability ?? $0.defaultMinProbability)"
            } ?? ""
            print("model: \(modelOptions.model) (\(modelOptions.weights) weights, \(modelOptions.kvCacheDtype) KV)  prompts: \(usesHamburger ? "\(prompts.count) chat prompts" : "random"), mean \(String(format: "%.1f", meanPrompt)) tokens  max tokens: \(maxTokens)\(confidenceText)")
            print("concurrency  mode            tok/s     step ms (all / decode)  tok/step  KV/token  seqs in \(Self.kvBudget)  preemptions")
        }
        for level in levels {
            var byMode: [String: LevelResult] = [:]
            for mode in modes {
                let result = try runLevel(level, mode: mode, model: model, hamburger: hamburger, prompts: prompts)
                byMode[mode] = result
                if json {
                    print(CommandSupport.jsonLine(result))
                } else {
                    let name = mode.padding(toLength: 14, withPad: " ", startingAt: 0)
                    print(String(format: "%11d  ", level) + name + String(format: "  %8.1f  %8.1f / %-8.1f     %8.3f  %8.3f  %12d  %d",
                                 result.tokens_per_second, result.step_ms_median, result.decode_step_ms_median,
                                 result.tokens_per_macro_step, result.kv_entries_per_generated_token,
                                 result.sequences_in_kv_budget, result.preemptions))
                }
            }
            if let h = byMode["hamburger"], let a = byMode["autoregressive"] {
                func ratio(_ x: Double, _ y: Double) -> Double { y == 0 ? 0 : x / y }
                let r = Ratios(
                    concurrency: level, ratio: "hamburger/autoregressive",
                    tokens_per_second: ratio(h.tokens_per_second, a.tokens_per_second),
                    tokens_per_macro_step: ratio(h.tokens_per_macro_step, a.tokens_per_macro_step),
                    kv_entries_per_generated_token: ratio(h.kv_entries_per_generated_token, a.kv_entries_per_generated_token),
                    sequences_in_kv_budget: ratio(Double(h.sequences_in_kv_budget), Double(a.sequences_in_kv_budget)))
                if json {
                    print(CommandSupport.jsonLine(r))
                } else {
                    print(String(format: "%11d  ratio h/a       %7.2fx" + String(repeating: " ", count: 26) + "%7.2fx  %7.2fx  %11.2fx", level,
                                 r.tokens_per_second, r.tokens_per_macro_step, r.kv_entries_per_generated_token,
                                 r.sequences_in_kv_budget))
                }
            }
        }
    }

    /// Chat prompts (rendered with the model's template) or pseudo-random ids.
    private func prompts(chat: Bool) throws -> [[Int32]] {
        guard chat else {
            var prompts: [[Int32]] = []
            for i in 0..<max(levels.max() ?? 1, 1) {
                var prompt: [Int32] = []
                for t in 0..<promptTokens {
                    let id: Int = 1000 + ((t + 31 * i) * 7919) % 20000
                    prompt.append(Int32(id))
                }
                prompts.append(prompt)
            }
            return prompts
        }
        return try BenchEngine.chatPrompts(BenchPrompts.userMessages, modelPath: modelOptions.model)
    }

    private func runLevel(_ level: Int, mode: String, model: LlamaModel, hamburger: HamburgerAdapter?, prompts: [[Int32]]) throws -> LevelResult {
        let bench = try BenchEngine(model: model, slots: level, kvType: modelOptions.kvCacheDtype, mode: mode, adapter: hamburger,
                                    confidence: confidence, minProbability: minProbability)
        defer { bench.shutdown() }
        let engine = bench.engine
        let requests = (0..<level).map { i in
            GenerationRequest(id: "bench-\(level)-\(i)", promptTokenIds: prompts[i % prompts.count], sampling: .greedy,
                              maxTokens: maxTokens, ignoresEndOfSequence: true, decoding: bench.decoding)
        }
        let start = DispatchTime.now()
        let results = try engine.generate(requests)
        let seconds = CommandSupport.seconds(since: start)
        let generated = results.reduce(0) { $0 + $1.tokenIds.count }
        let steps = results.reduce(0) { $0 + $1.macroSteps }
        let all = bench.reports
        let stats = engine.stats()
        let kvPerToken = generated == 0 ? 0 : Double(steps) / Double(generated)
        let meanPrompt = Double(requests.reduce(0) { $0 + $1.promptTokenIds.count }) / Double(max(requests.count, 1))
        let entriesPerSequence = meanPrompt + Double(maxTokens) * kvPerToken
        return LevelResult(
            concurrency: level, decoding: mode,
            tokens_per_second: Double(generated) / seconds, generated_tokens: generated, seconds: seconds,
            step_ms_median: CommandSupport.median(all.map { $0.durationSeconds * 1000 }),
            decode_step_ms_median: CommandSupport.median(all.filter { $0.prefillRowCount == 0 }.map { $0.durationSeconds * 1000 }),
            iterations: all.count, kv_blocks_used_max: all.map(\.kvBlocksUsed).max() ?? 0,
            kv_blocks_total: stats.kvBlocksTotal, kv_entries_used_max: all.map(\.kvEntriesUsed).max() ?? 0,
            preemptions: stats.preemptionsTotal, macro_steps: steps,
            tokens_per_macro_step: steps == 0 ? 0 : Double(generated) / Double(steps),
            kv_entries_per_generated_token: kvPerToken, mean_prompt_tokens: meanPrompt,
            sequences_in_kv_budget: entriesPerSequence > 0 ? Int(Double(Self.kvBudget) / entriesPerSequence) : 0,
            kv_budget_entries: Self.kvBudget)
    }
}
