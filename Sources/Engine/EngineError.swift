/// Everything the engine refuses, with the numbers and what to do about it.
///
/// Submission errors are thrown from `submit` on the caller's thread; the API layer maps them to
/// HTTP 400 (or 503 for `.engineStopped` and `.overloaded`). Failures of a running sequence
/// (`.nonFiniteLogits`, `.forwardFailed`) are never thrown: the engine thread ends the sequences they
/// touch with a `GenerationEvent.failed` carrying them, and the API answers 500 (or an error event in a
/// stream already started).
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyPrompt(requestId: String)
    case invalidMaxTokens(requestId: String, maxTokens: Int)
    /// Prompt + maxTokens is longer than `max_model_len`.
    case exceedsMaxModelLength(requestId: String, promptTokens: Int, maxTokens: Int, maxModelLength: Int)
    /// The sequence could never fit in the whole KV cache, even alone.
    case exceedsKVCapacity(requestId: String, entriesNeeded: Int, entryCapacity: Int)
    case tokenOutOfRange(requestId: String, tokenId: Int32, vocabSize: Int)
    case invalidSamplingParameter(name: String, value: String, allowed: String)
    case invalidLogprobs(requestId: String, logprobs: Int, maximum: Int)
    /// The decoding mode is not available in this engine.
    case decodingModeUnavailable(requestId: String, mode: String)
    case duplicateRequestId(String)
    /// The waiting queue is full (`EngineConfiguration.maxWaitingRequests`): retry later.
    case overloaded(waitingCount: Int, limit: Int)
    /// The engine was shut down; no new requests.
    case engineStopped
    /// An engine setting out of range.
    case invalidConfiguration(String)
    /// The row of logits the request's next token would be sampled from held `nonFiniteCount` NaN or
    /// infinite values (of `vocabSize`): sampling from it would pick a token by accident, so the
    /// sequence was ended instead.
    case nonFiniteLogits(requestId: String, nonFiniteCount: Int, vocabSize: Int)
    /// The model's forward pass over a batch that held this request failed (threw, or returned the
    /// wrong number of rows); every sequence of that batch was ended, later batches run as usual.
    case forwardFailed(requestId: String, reason: String)

    public var description: String {
        switch self {
        case let .emptyPrompt(id):
            return "request \(id): the prompt has no tokens; send at least one token."
        case let .invalidMaxTokens(id, maxTokens):
            return "request \(id): max_tokens must be at least 1, got \(maxTokens)."
        case let .exceedsMaxModelLength(id, prompt, maxTokens, limit):
            return "request \(id): prompt (\(prompt) tokens) + max_tokens (\(maxTokens)) = \(prompt + maxTokens) tokens exceeds max_model_len \(limit); shorten the prompt or lower max_tokens to at most \(max(0, limit - prompt))."
        case let .exceedsKVCapacity(id, needed, capacity):
            return "request \(id): needs up to \(needed) KV entries but the whole KV cache holds \(capacity); lower max_tokens, shorten the prompt, or raise the KV cache size."
        case let .tokenOutOfRange(id, token, vocab):
            return "request \(id): token id \(token) is outside the vocabulary (0 ..< \(vocab))."
        case let .invalidSamplingParameter(name, value, allowed):
            return "\(name) = \(value) is out of range; allowed: \(allowed)."
        case let .invalidLogprobs(id, logprobs, maximum):
            return "request \(id): logprobs = \(logprobs) is out of range; allowed: 0 ... \(maximum)."
        case let .decodingModeUnavailable(id, mode):
            return "request \(id): decoding mode '\(mode)' is not available: the server has no HAMburger adapter loaded (start it with --adapter pointing at a trained adapter JSON, see training/FORMAT.md); use 'autoregressive'."
        case let .overloaded(waiting, limit):
            return "the engine has \(waiting) requests waiting and takes at most \(limit); retry shortly."
        case let .duplicateRequestId(id):
            return "a request with id \(id) is already in flight; use a unique id."
        case .engineStopped:
            return "the engine has shut down and accepts no new requests."
        case let .invalidConfiguration(message):
            return "engine configuration: \(message)"
        case let .nonFiniteLogits(id, count, vocab):
            return "request \(id): the model produced \(count) non-finite logits (NaN or infinity) of \(vocab) for the next token; the sequence was ended instead of sampling from them. Other requests are unaffected; if it repeats, check the model file and the adapter."
        case let .forwardFailed(id, reason):
            return "request \(id): the forward pass of its batch failed (\(reason)); the sequence was ended. The server keeps serving; retry the request."
        }
    }
}
