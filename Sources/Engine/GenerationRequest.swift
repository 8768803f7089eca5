import StructuredOutput

/// One generation job as the engine sees it: token ids in, token ids out, no text.
///
/// The API layer tokenizes, fills this in and submits it; the engine validates it once, at submission
/// (`InferenceEngine.validate`: lengths, ids, parameters, with one limit per field), so that a bad
/// request fails fast with a typed `EngineError` instead of in the loop. Past that point (scheduler,
/// engine loop) the request is trusted.
public struct GenerationRequest: Sendable, Equatable {
    /// Caller-chosen id, unique among the requests in flight; `cancel` takes it.
    public var id: String
    /// The prompt, already tokenized (chat template applied by the caller). Not empty.
    public var promptTokenIds: [Int32]
    public var sampling: SamplingParameters
    /// Most tokens to generate (>= 1); prompt + maxTokens must fit `max_model_len`.
    public var maxTokens: Int
    /// Tokens that end generation besides the model's end-of-sequence ids. A stop token is counted in
    /// `completionTokens` but not emitted in a `.tokens` event.
    public var stopTokenIds: [Int32]
    /// When true the model's end-of-sequence ids do not stop generation (benchmarks want fixed lengths).
    public var ignoresEndOfSequence: Bool
    public var decoding: DecodingMode
    /// nil = no logprobs; 0 = the chosen token's logprob; N = also the N most likely alternatives (N <= `maxLogprobs`).
    public var logprobs: Int?
    /// When set, every token (micro tokens included) is chosen among those the automaton allows
    /// (`response_format`); the end of output only where the JSON is complete.
    public var constraint: TokenConstraint?
    /// nil = no prompt logprobs; N = the logprob of every prompt token after the first (given the
    /// tokens before it) with its N most likely alternatives (N <= 20), in `.promptLogprobs` events
    /// (`echo` with `logprobs`). Such a request takes nothing from the prefix cache, and the stop token
    /// that ends it is emitted too (with its logprob), as vLLM reports it to evaluation clients.
    public var promptLogprobs: Int?

    public init(
        id: String, promptTokenIds: [Int32], sampling: SamplingParameters = .greedy, maxTokens: Int,
        stopTokenIds: [Int32] = [], ignoresEndOfSequence: Bool = false, decoding: DecodingMode = .autoregressive,
        logprobs: Int? = nil, constraint: TokenConstraint? = nil, promptLogprobs: Int? = nil
    ) {
        self.promptLogprobs = promptLogprobs
        self.constraint = constraint
        self.id = id
        self.promptTokenIds = promptTokenIds
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stopTokenIds = stopTokenIds
        self.ignoresEndOfSequence = ignoresEndOfSequence
        self.decoding = decoding
        self.logprobs = logprobs
    }

    /// The most alternatives `logprobs` may ask for: the one limit, OpenAI's for legacy completions,
    /// that the API also applies to chat `top_logprobs`.
    public static let maxLogprobs = 5
}
