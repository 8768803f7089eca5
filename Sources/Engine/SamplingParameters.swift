/// How the next token is chosen from a row's logits, per request (OpenAI / vLLM semantics).
///
/// Order of application: repetition, frequency and presence penalties and the logit bias on the logits; then greedy
/// argmax when `temperature == 0`; otherwise logits / temperature, softmax, top-k, top-p (over the
/// survivors of top-k), min-p (relative to the most likely token), and one draw from the request's own
/// seeded generator. The same seed and the same logits give the same tokens whatever else is in the batch.
public struct SamplingParameters: Sendable, Equatable, Hashable {
    /// 0 = greedy; otherwise the softmax temperature (> 0).
    public var temperature: Float
    /// Keep only the k most likely tokens; 0 = off.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches `topP`; 1 = off. In (0, 1].
    public var topP: Float
    /// Drop tokens less likely than `minP` times the most likely one; 0 = off. In [0, 1].
    public var minP: Float
    /// Subtracted once from the logit of every token already generated (OpenAI). In [-2, 2].
    public var presencePenalty: Float
    /// Subtracted from a token's logit once per time it was generated (OpenAI). In [-2, 2].
    public var frequencyPenalty: Float
    /// Divides positive / multiplies negative logits of tokens seen in the prompt or output (CTRL); 1 = off; > 0.
    public var repetitionPenalty: Float
    /// Seed of the request's random generator; nil = a fresh random seed.
    public var seed: UInt64?
    /// Added to the logits of these token ids before sampling (OpenAI's `logit_bias`); each in [-100, 100].
    public var logitBias: [Int32: Float] = [:]

    public init(
        temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
        presencePenalty: Float = 0, frequencyPenalty: Float = 0, repetitionPenalty: Float = 1, seed: UInt64? = nil,
        logitBias: [Int32: Float] = [:]
    ) {
        self.logitBias = logitBias
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }

    /// Argmax decoding, no penalties.
    public static let greedy = SamplingParameters(temperature: 0)

    /// Whether the token is the argmax of the (penalised) logits.
    public var isGreedy: Bool { temperature == 0 }
    /// Whether any penalty changes the logits.
    public var hasPenalties: Bool { presencePenalty != 0 || frequencyPenalty != 0 || repetitionPenalty != 1 }
    /// Whether anything (a penalty or a bias) changes the logits before the choice.
    public var adjustsLogits: Bool { hasPenalties || !logitBias.isEmpty }

    /// The first parameter out of range, as an error.
    public func validate() throws(EngineError) {
        func bad(_ name: String, _ value: String, _ allowed: String) -> EngineError {
            .invalidSamplingParameter(name: name, value: value, allowed: allowed)
        }
        guard temperature.isFinite, temperature >= 0 else { throw bad("temperature", "\(temperature)", ">= 0") }
        guard topK >= 0 else { throw bad("top_k", "\(topK)", ">= 0 (0 = off)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw bad("top_p", "\(topP)", "in (0, 1]") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw bad("min_p", "\(minP)", "in [0, 1]") }
        guard presencePenalty.isFinite, abs(presencePenalty) <= 2 else {
            throw bad("presence_penalty", "\(presencePenalty)", "in [-2, 2]")
        }
        guard frequencyPenalty.isFinite, abs(frequencyPenalty) <= 2 else {
            throw bad("frequency_penalty", "\(frequencyPenalty)", "in [-2, 2]")
        }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw bad("repetition_penalty", "\(repetitionPenalty)", "> 0 (1 = off)")
        }
        for (token, bias) in logitBias.sorted(by: { $0.key < $1.key }) where !(bias.isFinite && abs(bias) <= 100) {
            throw bad("logit_bias", "\(bias) for token \(token)", "in [-100, 100]")
        }
    }
}
