import Engine
import Foundation
import Tokenization

/// What one response flavour (text completion, chat) puts on the wire: the stream chunks, the usage
/// chunk and the whole body. `CompletionStream` decides *when* something is sent; an encoder only
/// decides *how it looks*, so the machine never switches on the flavour.
///
/// Encoders are values kept inside the stream's state; `mutating` lets one remember what it already
/// sent (the chat flavour names the assistant role in each choice's first delta only).
protocol CompletionEncoder: Sendable {
    /// One streamed chunk (the JSON object, without SSE framing).
    mutating func chunk(_ delta: ChoiceDelta) -> Data
    /// The stream's last data chunk when the client asked for `stream_options.include_usage`.
    func usageChunk(_ usage: Usage) -> Data
    /// The non-streamed response body.
    func body(_ choices: [ChoiceResult], usage: Usage) -> Data
}

/// What a response is called: its id, creation time (seconds since 1970) and served model name.
struct ResponseIdentity: Sendable, Equatable {
    var id: String
    var created: Int
    var model: String
}

/// New output of one choice, for one stream chunk.
struct ChoiceDelta: Sendable, Equatable {
    var index: Int
    var text: String
    var logprobs: [TokenLogprob] = []
    /// Characters of the choice's text (echo included) before `text`, for legacy `text_offset`.
    var textOffset: Int = 0
    /// Set on the choice's last chunk.
    var finishReason: FinishReason?
}

/// One choice's whole answer, for the non-streamed body.
struct ChoiceResult: Sendable, Equatable {
    var index: Int
    /// Echoed prompt text ("" when not echoed) and the generated text after it.
    var echo: String
    var text: String
    var logprobs: [TokenLogprob]
    var finishReason: FinishReason?
    /// With `echo` and `logprobs`: the prompt's tokens, and the logprobs of all but the first.
    var promptTokenIds: [Int32] = []
    var promptLogprobs: [TokenLogprob] = []
}

/// Token text and logprob shapes shared by the encoders: how the client sees one token id.
struct LogprobRenderer: Sendable {
    let tokenizer: Tokenizer
    /// Alternatives per token to report; nil when the request asked for no logprobs.
    let topCount: Int?

    func text(_ id: Int32) -> String {
        (try? tokenizer.decode([Int(id)])) ?? ""
    }

    /// Legacy completions: tokens, logprobs, top alternatives by text and each token's text offset.
    /// With prompt tokens (`echo` + `logprobs`, as vLLM answers it) they come first, from offset 0: the
    /// first with a null logprob and null alternatives, the others with their logprob and their
    /// alternatives plus the prompt token itself.
    func completion(_ entries: [TokenLogprob], offset: Int, promptTokenIds: [Int32] = [], promptLogprobs: [TokenLogprob] = []) -> CompletionLogprobs? {
        guard let topCount else { return nil }
        var out = CompletionLogprobs()
        var position = promptTokenIds.isEmpty ? offset : 0
        for (i, id) in promptTokenIds.enumerated() {
            let token = text(id)
            out.tokens.append(token)
            out.textOffset.append(position)
            position += token.count
            guard i > 0, i - 1 < promptLogprobs.count else {
                out.tokenLogprobs.append(nil)
                out.topLogprobs.append(nil)
                continue
            }
            let entry = promptLogprobs[i - 1]
            out.tokenLogprobs.append(Double(entry.logprob))
            var top: [String: Double] = [:]
            for alt in entry.topAlternatives.prefix(topCount) { top[text(alt.tokenId)] = Double(alt.logprob) }
            top[token] = Double(entry.logprob)
            out.topLogprobs.append(top)
        }
        if !promptTokenIds.isEmpty { position = offset }
        for entry in entries {
            let token = text(entry.tokenId)
            out.tokens.append(token)
            out.tokenLogprobs.append(Double(entry.logprob))
            var top: [String: Double] = [:]
            for alt in entry.topAlternatives.prefix(topCount) { top[text(alt.tokenId)] = Double(alt.logprob) }
            out.topLogprobs.append(topCount > 0 ? top : nil)
            out.textOffset.append(position)
            position += token.count
        }
        return out
    }

    /// Chat: one entry per token with its bytes and top alternatives.
    func chat(_ entries: [TokenLogprob]) -> ChatCompletionResponse.Logprobs? {
        guard let topCount else { return nil }
        return .init(content: entries.map { entry in
            let token = text(entry.tokenId)
            return .init(token: token, logprob: Double(entry.logprob), bytes: Array(token.utf8),
                         topLogprobs: entry.topAlternatives.prefix(topCount).map { alt in
                             let t = text(alt.tokenId)
                             return .init(token: t, logprob: Double(alt.logprob), bytes: Array(t.utf8))
                         })
        })
    }
}
