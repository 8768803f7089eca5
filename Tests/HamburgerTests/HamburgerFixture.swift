import Engine
import Foundation
import Hamburger
import KVCache
import Llama
import TestSupport

/// The parity fixture written by the Python reference decoder (`python -m hamburger_train.generate
/// --fixture`): per prompt and setting (confidence, min_probability), the greedy token ids (a final EOS included) and the group
/// size of every macro step.
struct HamburgerFixture: Decodable {
    struct Case: Decodable {
        let prompt_ids: [Int32]
        let confidence: Double
        /// The quality-first floor (absent in fixtures written before it: 0, off).
        let min_probability: Double?
        let tokens: [Int32]
        let group_sizes: [Int]
        let kv_entries: Int
        let base_tokens: [Int32]
    }
    let adapter_json: String
    let max_new_tokens: Int
    let eos_token_ids: [Int32]
    var cases: [Case]
}

/// The model, adapters and fixtures the suites share (loaded once per process).
enum HamburgerTestbed {
    static let model: LlamaModel? = try? LlamaModel(path: TestPaths.modelPath, precision: .native)

    /// The trained adapter and its fixture (committed).
    static let trainedFixtureName = "hamburger-greedy.json"
    /// A random-weights adapter (too big to commit: `scripts/hamburger-untrained-adapter.py` writes it)
    /// and its committed fixture; `HAMBURGER_UNTRAINED_ADAPTER` overrides where the adapter is.
    static let untrainedFixtureName = "hamburger-greedy-untrained.json"
    static var untrainedAdapterPath: String {
        ProcessInfo.processInfo.environment["HAMBURGER_UNTRAINED_ADAPTER"] ?? "/tmp/hb/dev-adapter.json"
    }

    static func fixture(_ name: String) -> HamburgerFixture? {
        try? TestPaths.loadFixture(HamburgerFixture.self, name)
    }

    /// Where the adapter of the fixture `name` lives.
    static func adapterPath(forFixture name: String) -> String? {
        if name == untrainedFixtureName { return untrainedAdapterPath }
        guard let fixture = fixture(name) else { return nil }
        return TestPaths.repoRoot.appendingPathComponent("models").appendingPathComponent(fixture.adapter_json).path
    }

    nonisolated(unsafe) private static var adapters: [String: HamburgerAdapter] = [:]
    private static let lock = NSLock()

    /// The adapter at `path` bound to the shared model (loaded once per path).
    static func adapter(path: String) throws -> HamburgerAdapter {
        lock.lock()
        defer { lock.unlock() }
        if let adapter = adapters[path] { return adapter }
        guard let model else { throw HamburgerError.unreadableFile(path: TestPaths.modelPath, reason: "the model did not load; run 'make setup'") }
        let adapter = try HamburgerAdapter(path: path, baseModelPath: TestPaths.modelPath, hyperparameters: model.hyperparameters)
        adapters[path] = adapter
        return adapter
    }

    static func engine(_ adapter: HamburgerAdapter?, kvBlocks: Int = 256, blockSize: Int = 16, maxBatchedTokens: Int = 512,
                       prefixCaching: Bool = true, observer: (@Sendable (IterationReport) -> Void)? = nil) throws -> InferenceEngine {
        guard let model else { throw EngineError.invalidConfiguration("no model at \(TestPaths.modelPath); run 'make setup'") }
        var configuration = EngineConfiguration(maxBatchedTokens: maxBatchedTokens, kvBlockSize: blockSize, kvCapacity: .blocks(kvBlocks))
        configuration.iterationObserver = observer
        configuration.enablePrefixCaching = prefixCaching
        return try InferenceEngine(model: model, configuration: configuration, adapter: adapter)
    }

    /// The trained adapter and its fixture when committed, else the untrained one (when written).
    static func anyAdapter() throws -> (HamburgerFixture, HamburgerAdapter) {
        for name in [trainedFixtureName, untrainedFixtureName] {
            if let fixture = fixture(name), let path = adapterPath(forFixture: name), FileManager.default.fileExists(atPath: path) {
                return (fixture, try adapter(path: path))
            }
        }
        throw HamburgerError.unreadableFile(path: "models/hamburger-smollm2-135m.json", reason: "no HAMburger adapter with a parity fixture is present")
    }

    /// The engine's output in the fixture's terms: emitted tokens plus the final stop token when the
    /// request ended on one (the fixture lists EOS among the tokens).
    static func tokensWithStop(_ result: GenerationResult, stopToken: Int32) -> [Int32] {
        result.completionTokens > result.tokenIds.count ? result.tokenIds + [stopToken] : result.tokenIds
    }

    static func request(_ id: String, _ testCase: HamburgerFixture.Case, maxTokens: Int, confidence: Double? = nil) -> GenerationRequest {
        GenerationRequest(id: id, promptTokenIds: testCase.prompt_ids, maxTokens: maxTokens,
                          decoding: .hamburger(confidence: Float(confidence ?? testCase.confidence),
                                               minProbability: Float(testCase.min_probability ?? 0)))
    }
}
