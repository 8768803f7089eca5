/// The body of `POST /v1/chat/completions`. Sampling fields are the same as for completions.
public struct ChatCompletionRequest: Decodable, Sendable {
    /// One message; `content` may be a string or an array of `{"type": "text", "text": ...}` parts.
    public struct Message: Decodable, Sendable, Equatable {
        public var role: String
        public var content: String

        enum CodingKeys: String, CodingKey { case role, content }
        struct Part: Decodable { var type: String; var text: String? }

        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            role = try c.decode(String.self, forKey: .role)
            if let text = try? c.decode(String.self, forKey: .content) {
                content = text
            } else if c.contains(.content), try c.decodeNil(forKey: .content) {
                content = ""
            } else {
                let parts = try c.decode([Part].self, forKey: .content)
                if let other = parts.first(where: { $0.type != "text" }) {
                    throw DecodingError.dataCorrupted(.init(
                        codingPath: c.codingPath + [CodingKeys.content],
                        debugDescription: "content parts of type '\(other.type)' are not supported (this model reads text parts only)"))
                }
                content = parts.compactMap(\.text).joined()
            }
        }
    }

    public var model: String?
    public var messages: [Message]
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var minP: Double?
    public var n: Int?
    public var stop: StopInput?
    public var seed: Int?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var logprobs: Bool?
    public var topLogprobs: Int?
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
        case model, messages, n, stop, seed, stream, logprobs, user, decoding, temperature
        case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens"
        case topP = "top_p", topK = "top_k", minP = "min_p", topLogprobs = "top_logprobs"
        case streamOptions = "stream_options", presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty", repetitionPenalty = "repetition_penalty"
        case ignoreEos = "ignore_eos", hamburgerConfidence = "hamburger_confidence"
        case hamburgerMinProbability = "hamburger_min_probability", logitBias = "logit_bias", responseFormat = "response_format"
    }
}
