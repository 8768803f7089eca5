import Engine
import Foundation
import Hamburger
import Llama
import OpenAIAPI
import StructuredOutput
import Synchronization
import Tokenization

/// `hamburger bench --constraint-overhead`: what `response_format` costs per generated token. For each
/// concurrency level and decoding mode it runs the same JSON-asking chat prompts unconstrained and
/// constrained by one schema, alternating (U, C, U, C, ...), and reports the median time per generated
/// token over decode-only iterations. The first constrained run starts with an empty mask memo (cold);
/// the later ones reuse it (warm), as a server does for a schema it has seen. With HAMburger it also
/// reports tokens per macro step, and for the constrained outputs the share of tokens that were forced
/// (the mask allowed exactly one token) and of bytes that were forced (exactly one byte value could
/// come next: what a jump-forward could append without the model).
struct ConstraintBench {
    let modelOptions: ModelOptions
    let levels: [Int]
    let maxTokens: Int
    let runs: Int
    let modes: [String]
    var adapterPath: String = CommandSupport.defaultAdapterPath
    var confidence: Double?
    var minProbability: Double?

    static let schema = """
    {"type": "object", "properties": {"items": {"type": "array", "maxItems": 6, "items": {"type": "object",
      "properties": {"name": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1, "maximum": 99},
                     "urgent": {"type": "boolean"}}, "required": ["name", "quantity", "urgent"], "additionalProperties": false}},
      "store": {"enum": ["market", "bakery", "pharmacy"]}}, "required": ["items", "store"], "additionalProperties": false}
    """
    static let messages = [
        "Write my shopping list as JSON: items with name, quantity and urgent, and the store.",
        "I need bread, milk and two apples. Give the list as JSON.",
        "Return a JSON shopping list for a birthday party.",
        "Make a JSON list of medicines to buy at the pharmacy.",
    ]

    struct Run {
        var secondsPerToken: Double
        var tokens: Int
        var macroSteps: Int
        var forced: Int
        var bytes: Int
        var forcedBytes: Int
        var valid: Int
        var requests: Int
        /// Seconds spent in the constraint's own work per token (memo lookup, mask applied to a
        /// `[vocab]` row, automaton step), replayed over the run's outputs with a warm memo.
        var maskSecondsPerToken: Double = 0
    }

    func run() throws {
        let model = try modelOptions.loadModel()
        let hamburger = modes.contains("hamburger") ? try CommandSupport.loadHamburger(model: model, modelPath: modelOptions.model, adapterPath: adapterPath) : nil
        let tokenizer = try CommandSupport.loadTokenizer(modelOptions.model)
        let prompts = try BenchEngine.chatPrompts(Self.messages, modelPath: modelOptions.model)
        let schema = try JSONDecoder().decode(JSONValue.self, from: Data(Self.schema.utf8))
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown"
        print("model: \(modelOptions.model)  cpu: \(cpu)  max tokens: \(maxTokens)  runs: \(runs) per arm (medians)")
        print("concurrency  mode            unconstrained ms/tok  constrained warm ms/tok  overhead  cold ms/tok  tok/step (u / c)  forced tok / bytes  valid  mask ms/tok (share of u)")
        for level in levels {
            for mode in modes {
                // A fresh constraint per (level, mode): its first run is cold.
                let vocabulary = ServedModel.constraintVocabulary(tokenizer, endTokenIds: model.endOfSequenceTokenIds)
                let constraint = TokenConstraint(grammar: try JSONSchemaCompiler.compile(schema), vocabulary: vocabulary)
                var plain: [Run] = [], constrained: [Run] = []
                for _ in 0 ..< runs {
                    plain.append(try runOnce(level, mode: mode, model: model, hamburger: hamburger, prompts: prompts, constraint: nil))
                    constrained.append(try runOnce(level, mode: mode, model: model, hamburger: hamburger, prompts: prompts, constraint: constraint))
                }
                let u = CommandSupport.median(plain.map(\.secondsPerToken)) * 1000
                let warm = CommandSupport.median(constrained.dropFirst().map(\.secondsPerToken)) * 1000
                let cold = constrained[0].secondsPerToken * 1000
                let maskMs = CommandSupport.median(constrained.map(\.maskSecondsPerToken)) * 1000
                func perStep(_ rs: [Run]) -> Double {
                    let steps = rs.reduce(0) { $0 + $1.macroSteps }
                    return steps == 0 ? 0 : Double(rs.reduce(0) { $0 + $1.tokens }) / Double(steps)
                }
                let forced = Double(constrained.reduce(0) { $0 + $1.forced }) / Double(max(1, constrained.reduce(0) { $0 + $1.tokens }))
                let forcedBytes = Double(constrained.reduce(0) { $0 + $1.forcedBytes }) / Double(max(1, constrained.reduce(0) { $0 + $1.bytes }))
                let valid = constrained.reduce(0) { $0 + $1.valid }, total = constrained.reduce(0) { $0 + $1.requests }
                print(String(format: "%11d  %@  %20.3f  %23.3f  %+7.1f%%  %11.3f  %6.2f / %-6.2f  %5.1f%% / %5.1f%%     %d/%d  %.4f (%.2f%%)", level,
                             mode.padding(toLength: 14, withPad: " ", startingAt: 0), u, warm, (warm / u - 1) * 100, cold,
                             perStep(plain), perStep(constrained), forced * 100, forcedBytes * 100, valid, total, maskMs, maskMs / u * 100))
            }
        }
    }

    private func runOnce(_ level: Int, mode: String, model: LlamaModel, hamburger: HamburgerAdapter?, prompts: [[Int32]],
                         constraint: TokenConstraint?) throws -> Run {
        let bench = try BenchEngine(model: model, slots: level, kvType: modelOptions.kvCacheDtype, mode: mode, adapter: hamburger,
                                    confidence: confidence, minProbability: minProbability)
        defer { bench.shutdown() }
        let requests = (0 ..< level).map { i in
            GenerationRequest(id: "c-\(i)", promptTokenIds: prompts[i % prompts.count], sampling: .greedy, maxTokens: maxTokens,
                              decoding: bench.decoding, constraint: constraint)
        }
        let results = try bench.engine.generate(requests)
        let decodeOnly = bench.reports.filter { $0.prefillRowCount == 0 && $0.generatedTokenCount > 0 }
        let seconds = decodeOnly.reduce(0) { $0 + $1.durationSeconds }, tokens = decodeOnly.reduce(0) { $0 + $1.generatedTokenCount }
        var forced = 0, valid = 0, byteCount = 0, forcedBytes = 0
        var maskSeconds = 0.0, maskTokens = 0
        if let constraint {
            var row = [Float](repeating: 0, count: constraint.vocabulary.size)
            for result in results {
                var state = constraint.initialState
                let start = DispatchTime.now()
                for token in result.tokenIds {
                    let mask = constraint.mask(for: state)
                    row.withUnsafeMutableBufferPointer { mask.apply(to: $0) }
                    state = constraint.advanced(state, by: token) ?? state
                }
                maskSeconds += CommandSupport.seconds(since: start)
                maskTokens += result.tokenIds.count
            }
            for result in results {
                var state = constraint.initialState
                var bytes: [UInt8] = []
                for token in result.tokenIds {
                    if constraint.mask(for: state).allowedCount == 1 { forced += 1 }
                    bytes += constraint.vocabulary.tokenBytes[Int(token)] ?? []
                    state = constraint.advanced(state, by: token) ?? state
                }
                if result.finishReason == .stop, (try? JSONSerialization.jsonObject(with: Data(bytes))) != nil { valid += 1 }
                // Bytes the automaton forced: exactly one byte value could come next (jump-forward material).
                var g = constraint.initialState
                for byte in bytes {
                    byteCount += 1
                    if (0 ... 255).filter({ constraint.grammar.advanced(g, by: UInt8($0)) != nil }).count == 1 { forcedBytes += 1 }
                    g = constraint.grammar.advanced(g, by: byte) ?? g
                }
            }
        }
        return Run(secondsPerToken: tokens == 0 ? 0 : seconds / Double(tokens), tokens: results.reduce(0) { $0 + $1.tokenIds.count },
                   macroSteps: results.reduce(0) { $0 + $1.macroSteps }, forced: forced, bytes: byteCount, forcedBytes: forcedBytes,
                   valid: valid, requests: results.count, maskSecondsPerToken: maskTokens == 0 ? 0 : maskSeconds / Double(maskTokens))
    }
}
