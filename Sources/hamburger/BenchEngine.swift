import Engine
import Hamburger
import KVCache
import Llama
import Synchronization
import Tokenization

/// One engine started for one benchmark run: what `bench --concurrency`, `--capacity` and
/// `--constraint-overhead` share. One slot per request, the run's KV type, every iteration's report
/// collected, and the decoding mode the run's requests ask for ("hamburger" with the adapter at the
/// chosen confidence and floor, else autoregressive). `shutdown()` when the run is measured.
struct BenchEngine {
    let engine: InferenceEngine
    let decoding: DecodingMode
    private let log: IterationLog

    /// Every `IterationReport` of the run, in order (the observer runs on the engine thread).
    private final class IterationLog: Sendable {
        let reports = Mutex<[IterationReport]>([])
    }

    init(model: LlamaModel, slots: Int, kvType: KVElementType, mode: String, adapter: HamburgerAdapter?,
         confidence: Double?, minProbability: Double?, configure: (inout EngineConfiguration) -> Void = { _ in }) throws {
        let log = IterationLog()
        var config = EngineConfiguration()
        config.maxSequenceCount = max(slots, 1)
        config.kvElementType = kvType
        configure(&config)
        config.iterationObserver = { report in log.reports.withLock { $0.append(report) } }
        let hamburger = mode == "hamburger" ? adapter : nil
        engine = try InferenceEngine(model: model, configuration: config, adapter: hamburger)
        decoding = hamburger.map { CommandSupport.hamburgerMode($0, confidence: confidence, minProbability: minProbability) } ?? .autoregressive
        self.log = log
    }

    /// The iteration reports so far.
    var reports: [IterationReport] { log.reports.withLock { $0 } }

    func shutdown() { engine.shutdown() }

    /// Each user message rendered with the model file's chat template (generation prompt added), as ids.
    static func chatPrompts(_ messages: [String], modelPath: String) throws -> [[Int32]] {
        let (tokenizer, template) = try CommandSupport.loadTokenization(modelPath)
        return messages.map { message in
            tokenizer.encode(template.render([ChatMessage(role: "user", content: message)], addGenerationPrompt: true)).map(Int32.init)
        }
    }
}
