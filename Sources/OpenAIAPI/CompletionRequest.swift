/// The body of `POST /v1/completions`, as OpenAI and vLLM accept it, plus the `decoding` and
/// `hamburger_confidence` extensions. Field checks beyond JSON types live in `RequestValidation`.
public struct CompletionRequest: Decodable, Sendable {
    public var model: String?
    public var prompt: PromptInput
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var minP: Double?
    public var n: Int?
    public var stop: StopInput?
    public var seed: Int?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var logprobs: Int?
    public var echo: Bool?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var repetitionPenalty: Double?
    public var user: String?
    public var ignoreEos: Bool?
    public var decoding: String?
    public var hamburgerConfidence: Double?
    public var hamburgerMinProbability: Double?
    /// Token id (as a string) -> bias added to its logit, in [-100, 100].
    public var logitBias: [String: Double]?
    /// Constrains the output to JSON (any object, or a schema's values).
    public var responseFormat: ResponseFormat?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, prompt, n, stop, seed, stream, logprobs, echo, user, decoding, temperature
        case maxTokens = "max_tokens", topP = "top_p", topK = "top_k", minP = "min_p"
        case streamOptions = "stream_options", presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty", repetitionPenalty = "repetition_penalty"
        case ignoreEos = "ignore_eos", hamburgerConfidence = "hamburger_confidence"
        case hamburgerMinProbability = "hamburger_min_probability", logitBias = "logit_bias", responseFormat = "response_format"
    }
}

/// `stream_options`.
public struct StreamOptions: Decodable, Sendable {
    public var includeUsage: Bool?
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}

/// `prompt`: a string, an array of strings, an array of token ids, or an array of such arrays.
public enum PromptInput: Decodable, Sendable, Equatable {
    case text(String)
    case texts([String])
    case tokens([Int])
    case tokenBatches([[Int]])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .text(s); return }
        if let a = try? c.decode([String].self) { self = .texts(a); return }
        if let a = try? c.decode([Int].self) { self = .tokens(a); return }
        if let a = try? c.decode([[Int]].self) { self = .tokenBatches(a); return }
        throw DecodingError.typeMismatch(PromptInput.self, .init(
            codingPath: decoder.codingPath,
            debugDescription: "must be a string, an array of strings, an array of token ids or an array of arrays of token ids"))
    }
}

/// `stop`: one string or up to four.
public enum StopInput: Decodable, Sendable, Equatable {
    case one(String)
    case many([String])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .one(s); return }
        if let a = try? c.decode([String].self) { self = .many(a); return }
        throw DecodingError.typeMismatch(StopInput.self, .init(
            codingPath: decoder.codingPath, debugDescription: "must be a string or an array of strings"))
    }

    public var strings: [String] {
        switch self {
        case let .one(s): return [s]
        case let .many(a): return a
        }
    }
}
