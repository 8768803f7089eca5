/// Why a sequence stopped; the raw values are the OpenAI `finish_reason` strings, so the API encodes it as is.
public enum FinishReason: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    /// A stop token (end-of-sequence by default) was generated.
    case stop
    /// `maxTokens` tokens were generated.
    case length
    /// Cancelled by the caller (or the engine shut down).
    case abort
}

/// The log-probability of one emitted token under the model's raw distribution (log-softmax of the
/// logits before penalties and temperature), with the most likely alternatives when asked for.
public struct TokenLogprob: Sendable, Equatable {
    public var tokenId: Int32
    public var logprob: Float
    /// The `logprobs` most likely tokens and their logprobs, most likely first.
    public var topAlternatives: [Alternative]

    /// One alternative token.
    public struct Alternative: Sendable, Equatable {
        public var tokenId: Int32
        public var logprob: Float
        public init(tokenId: Int32, logprob: Float) {
            self.tokenId = tokenId
            self.logprob = logprob
        }
    }

    public init(tokenId: Int32, logprob: Float, topAlternatives: [Alternative]) {
        self.tokenId = tokenId
        self.logprob = logprob
        self.topAlternatives = topAlternatives
    }
}

/// What a submitted request hears from the engine: zero or more `.tokens` events (one per engine
/// iteration that produced tokens for it; with HAMburger one event may carry a whole group), then
/// exactly one terminal event: `.finished`, or `.failed` when the engine could not compute the sequence.
public enum GenerationEvent: Sendable, Equatable {
    /// New token ids, in order; `logprobs` has one entry per token when the request asked for them.
    case tokens([Int32], logprobs: [TokenLogprob]?)
    /// Logprobs of the next prompt tokens (prompt token 1 onward, in order, each given the tokens
    /// before it), for a request with `promptLogprobs`; all of them come before the first `.tokens`.
    case promptLogprobs([TokenLogprob])
    /// The end. `completionTokens` counts every generated token, a final stop token included;
    /// `cachedPromptTokens` the prompt tokens whose KV entries came from the prefix cache.
    case finished(FinishReason, promptTokens: Int, completionTokens: Int, cachedPromptTokens: Int = 0)
    /// The end, in failure: the engine could not go on computing this sequence (`.nonFiniteLogits`,
    /// `.forwardFailed`) and freed it. Tokens sent before stand; `completionTokens` counts them.
    case failed(EngineError, promptTokens: Int, completionTokens: Int)

    /// Whether this is the request's last event.
    public var isTerminal: Bool {
        switch self {
        case .finished, .failed: return true
        case .tokens, .promptLogprobs: return false
        }
    }
}

/// The events of one request as an async sequence (the `AsyncStream` face of `submit`).
public typealias TokenStream = AsyncStream<GenerationEvent>
