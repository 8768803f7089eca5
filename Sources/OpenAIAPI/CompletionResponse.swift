import Engine

/// Token counts of one request, as OpenAI reports them.
public struct Usage: Codable, Equatable, Sendable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    /// How the prompt tokens were served: `cached_tokens` came from the prefix cache (OpenAI's field).
    public var promptTokensDetails: PromptTokensDetails?

    /// `usage.prompt_tokens_details`.
    public struct PromptTokensDetails: Codable, Equatable, Sendable {
        public var cachedTokens: Int
        enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }

    public init(promptTokens: Int, completionTokens: Int, cachedTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        totalTokens = promptTokens + completionTokens
        promptTokensDetails = cachedTokens.map { PromptTokensDetails(cachedTokens: $0) }
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
    }
}

/// Legacy-completions logprobs: per token its text, logprob, the top alternatives and text offset.
public struct CompletionLogprobs: Codable, Equatable, Sendable {
    public var tokens: [String] = []
    public var tokenLogprobs: [Double?] = []
    public var topLogprobs: [[String: Double]?] = []
    public var textOffset: [Int] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case tokens, tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset"
    }
}

/// `text_completion` objects, whole or as stream chunks (same shape; `usage` only where due).
public struct CompletionResponse: Encodable, Sendable {
    public struct Choice: Encodable, Sendable {
        public var text: String
        public var index: Int
        public var logprobs: CompletionLogprobs?
        public var finishReason: FinishReason?

        public init(text: String, index: Int, logprobs: CompletionLogprobs?, finishReason: FinishReason?) {
            self.text = text
            self.index = index
            self.logprobs = logprobs
            self.finishReason = finishReason
        }

        enum CodingKeys: String, CodingKey { case text, index, logprobs, finishReason = "finish_reason" }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(text, forKey: .text)
            try c.encode(index, forKey: .index)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    public var id: String
    public var object = "text_completion"
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?

    public init(id: String, created: Int, model: String, choices: [Choice], usage: Usage?) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// `chat.completion` and `chat.completion.chunk` objects.
public struct ChatCompletionResponse: Encodable, Sendable {
    public struct Message: Encodable, Sendable {
        public var role: String?
        public var content: String?
        public init(role: String?, content: String?) {
            self.role = role
            self.content = content
        }
    }

    /// Chat logprobs: `{"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}`.
    public struct Logprobs: Encodable, Sendable {
        public struct Entry: Encodable, Sendable {
            public struct Top: Encodable, Sendable {
                public var token: String
                public var logprob: Double
                public var bytes: [UInt8]
            }
            public var token: String
            public var logprob: Double
            public var bytes: [UInt8]
            public var topLogprobs: [Top]
            enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }
        }
        public var content: [Entry]
    }

    public struct Choice: Encodable, Sendable {
        public var index: Int
        public var message: Message?
        public var delta: Message?
        public var logprobs: Logprobs?
        public var finishReason: FinishReason?

        public init(index: Int, message: Message? = nil, delta: Message? = nil, logprobs: Logprobs? = nil, finishReason: FinishReason?) {
            self.index = index
            self.message = message
            self.delta = delta
            self.logprobs = logprobs
            self.finishReason = finishReason
        }

        enum CodingKeys: String, CodingKey { case index, message, delta, logprobs, finishReason = "finish_reason" }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encodeIfPresent(message, forKey: .message)
            try c.encodeIfPresent(delta, forKey: .delta)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?

    public init(id: String, object: String, created: Int, model: String, choices: [Choice], usage: Usage?) {
        self.id = id
        self.object = object
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// `GET /v1/models`.
public struct ModelList: Encodable, Sendable {
    public struct Model: Encodable, Sendable {
        public var id: String
        public var object = "model"
        public var created: Int
        public var ownedBy = "hamburger"
        public var maxModelLen: Int
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by", maxModelLen = "max_model_len" }
    }
    public var object = "list"
    public var data: [Model]
}
