import Engine

/// The sampling and length fields that completions and chat share, checked into engine terms.
/// Every rejection names its field, as OpenAI's 400 errors do.
struct SamplingFields {
    var maxTokens: Int?
    var temperature: Double?
    var topP: Double?
    var topK: Int?
    var minP: Double?
    var n: Int?
    var stop: StopInput?
    var seed: Int?
    var presencePenalty: Double?
    var frequencyPenalty: Double?
    var repetitionPenalty: Double?
    var ignoreEos: Bool?
    var decoding: String?
    var hamburgerConfidence: Double?
    var hamburgerMinProbability: Double?
    var logitBias: [String: Double]?

    /// Most choices per request.
    static let maxChoices = 16
    /// Most stop strings.
    static let maxStops = 4

    func choiceCount() throws(APIError) -> Int {
        let n = self.n ?? 1
        guard (1...Self.maxChoices).contains(n) else { throw .invalidField(param: "n", message: "'n' must be between 1 and \(Self.maxChoices), got \(n).") }
        return n
    }

    func stopStrings() throws(APIError) -> [String] {
        let stops = stop?.strings ?? []
        guard stops.count <= Self.maxStops else { throw .invalidField(param: "stop", message: "'stop' takes at most \(Self.maxStops) strings, got \(stops.count).") }
        return stops.filter { !$0.isEmpty }
    }

    /// `max_tokens`, defaulting to `defaultValue` (16 for completions; the rest of the context for chat).
    func maxTokenCount(default defaultValue: Int) -> Int {
        maxTokens ?? defaultValue
    }

    /// The engine's sampling parameters for choice `index` (seeds differ per choice so n > 1 varies).
    func sampling(choice index: Int) throws(APIError) -> SamplingParameters {
        func range(_ name: String, _ value: Double?, _ ok: (Double) -> Bool, _ allowed: String) throws(APIError) {
            if let value, !(value.isFinite && ok(value)) {
                throw .invalidField(param: name, message: "'\(name)' must be \(allowed), got \(value).")
            }
        }
        try range("temperature", temperature, { $0 >= 0 && $0 <= 2 }, "between 0 and 2")
        try range("top_p", topP, { $0 > 0 && $0 <= 1 }, "in (0, 1]")
        try range("min_p", minP, { $0 >= 0 && $0 <= 1 }, "between 0 and 1")
        try range("presence_penalty", presencePenalty, { abs($0) <= 2 }, "between -2 and 2")
        try range("frequency_penalty", frequencyPenalty, { abs($0) <= 2 }, "between -2 and 2")
        try range("repetition_penalty", repetitionPenalty, { $0 > 0 && $0 <= 2 }, "in (0, 2]")
        if let topK, topK < -1 { throw .invalidField(param: "top_k", message: "'top_k' must be -1 or 0 (off) or a positive number, got \(topK).") }
        var bias: [Int32: Float] = [:]
        for (key, value) in (logitBias ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let token = Int32(key), token >= 0 else {
                throw .invalidField(param: "logit_bias", message: "'logit_bias' keys must be token ids (non-negative integers as strings), got '\(key)'.")
            }
            guard value.isFinite, abs(value) <= 100 else {
                throw .invalidField(param: "logit_bias", message: "'logit_bias' values must be between -100 and 100, got \(value) for token \(key).")
            }
            bias[token] = Float(value)
        }
        return SamplingParameters(
            temperature: Float(temperature ?? 1), topK: max(0, topK ?? 0), topP: Float(topP ?? 1), minP: Float(minP ?? 0),
            presencePenalty: Float(presencePenalty ?? 0), frequencyPenalty: Float(frequencyPenalty ?? 0),
            repetitionPenalty: Float(repetitionPenalty ?? 1),
            seed: seed.map { UInt64(bitPattern: Int64($0)) &+ UInt64(index) }, logitBias: bias)
    }

    /// The decoding mode: the request's, or the server default. HAMburger's confidence and micro-token
    /// probability floor are each the request's, else the server default's (when that is HAMburger),
    /// else the adapter's.
    func decodingMode(default defaultMode: DecodingMode, adapterConfidence: Double? = nil,
                      adapterMinProbability: Double? = nil) throws(APIError) -> DecodingMode {
        if let c = hamburgerConfidence, !(c > 0 && c <= 1) {
            throw .invalidField(param: "hamburger_confidence", message: "'hamburger_confidence' must be in (0, 1], got \(c).")
        }
        if let p = hamburgerMinProbability, !(p >= 0 && p < 1) {
            throw .invalidField(param: "hamburger_min_probability", message: "'hamburger_min_probability' must be in [0, 1), got \(p).")
        }
        func hamburger(_ fallback: (confidence: Float, minProbability: Float)) -> DecodingMode {
            .hamburger(confidence: hamburgerConfidence.map(Float.init) ?? fallback.confidence,
                       minProbability: hamburgerMinProbability.map(Float.init) ?? fallback.minProbability)
        }
        switch decoding {
        case nil:
            if case let .hamburger(confidence, minProbability) = defaultMode { return hamburger((confidence, minProbability)) }
            return defaultMode
        case "autoregressive": return .autoregressive
        case "hamburger":
            if case let .hamburger(confidence, minProbability) = defaultMode { return hamburger((confidence, minProbability)) }
            return hamburger((Float(adapterConfidence ?? 0.9), Float(adapterMinProbability ?? 0)))
        case let other?:
            throw .invalidField(param: "decoding", message: "'decoding' must be 'hamburger' or 'autoregressive', got '\(other)'.")
        }
    }
}

extension CompletionRequest {
    var samplingFields: SamplingFields {
        SamplingFields(maxTokens: maxTokens, temperature: temperature, topP: topP, topK: topK, minP: minP, n: n, stop: stop,
                       seed: seed, presencePenalty: presencePenalty, frequencyPenalty: frequencyPenalty,
                       repetitionPenalty: repetitionPenalty, ignoreEos: ignoreEos, decoding: decoding,
                       hamburgerConfidence: hamburgerConfidence, hamburgerMinProbability: hamburgerMinProbability, logitBias: logitBias)
    }
}

extension ChatCompletionRequest {
    var samplingFields: SamplingFields {
        SamplingFields(maxTokens: maxCompletionTokens ?? maxTokens, temperature: temperature, topP: topP, topK: topK, minP: minP, n: n,
                       stop: stop, seed: seed, presencePenalty: presencePenalty, frequencyPenalty: frequencyPenalty,
                       repetitionPenalty: repetitionPenalty, ignoreEos: ignoreEos, decoding: decoding,
                       hamburgerConfidence: hamburgerConfidence, hamburgerMinProbability: hamburgerMinProbability, logitBias: logitBias)
    }
}
