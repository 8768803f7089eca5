import Engine
import Foundation
import Llama
import Synchronization

/// `hamburger bench --concurrency ...`: aggregate generated tok/s of the continuous-batching engine at
/// each concurrency level, with the per-iteration time and the KV cache it needed. Every level runs
/// the same kind of request (fixed pseudo-random prompts, end-of-sequence ignored, fixed length).
struct EngineBench {
    let modelOptions: ModelOptions
    let levels: [Int]
    let promptTokens: Int
    let maxTokens: Int
    let json: Bool

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
    }

    func run() throws {
        let model = try modelOptions.loadModel()
        if !json {
            print("model: \(modelOptions.model) (\(modelOptions.weights) weights)  prompt tokens: \(promptTokens)  max tokens: \(maxTokens)")
            print("concurrency  tok/s     step ms (all / decode-only)  iterations  KV blocks max  preemptions")
        }
        for level in levels {
            let reports = Mutex<[IterationReport]>([])
            var config = EngineConfiguration()
            config.maxSequenceCount = max(level, 1)
            config.iterationObserver = { report in reports.withLock { $0.append(report) } }
            let engine = try InferenceEngine(model: model, configuration: config)
            defer { engine.shutdown() }
            var requests: [GenerationRequest] = []
            for i in 0..<level {
                var prompt: [Int32] = []
                for t in 0..<promptTokens { prompt.append(Int32(1000 + ((t + 31 * i) * 7919) % 20000)) }
                requests.append(GenerationRequest(id: "bench-\(level)-\(i)", promptTokenIds: prompt, sampling: .greedy,
                                                  maxTokens: maxTokens, ignoresEndOfSequence: true))
            }
            let start = DispatchTime.now()
            let results = try engine.generate(requests)
            let seconds = CommandSupport.seconds(since: start)
            let generated = results.reduce(0) { $0 + $1.tokenIds.count }
            let all = reports.withLock { $0 }
            let stats = engine.stats()
            let result = LevelResult(
                concurrency: level, decoding: "autoregressive",
                tokens_per_second: Double(generated) / seconds, generated_tokens: generated, seconds: seconds,
                step_ms_median: CommandSupport.median(all.map { $0.durationSeconds * 1000 }),
                decode_step_ms_median: CommandSupport.median(all.filter { $0.prefillRowCount == 0 }.map { $0.durationSeconds * 1000 }),
                iterations: all.count, kv_blocks_used_max: all.map(\.kvBlocksUsed).max() ?? 0,
                kv_blocks_total: stats.kvBlocksTotal, kv_entries_used_max: all.map(\.kvEntriesUsed).max() ?? 0,
                preemptions: stats.preemptionsTotal)
            if json {
                print(CommandSupport.jsonLine(result))
            } else {
                print(String(format: "%11d  %8.1f  %8.1f / %-8.1f           %10d  %6d / %-6d  %d", level, result.tokens_per_second,
                             result.step_ms_median, result.decode_step_ms_median, result.iterations,
                             result.kv_blocks_used_max, result.kv_blocks_total, result.preemptions))
            }
        }
    }
}
