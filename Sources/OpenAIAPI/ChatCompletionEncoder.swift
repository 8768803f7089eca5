import Foundation

/// `/v1/chat/completions` on the wire: `chat.completion` whole, `chat.completion.chunk` streamed,
/// where each choice's first delta names the assistant role and its last one carries no content.
struct ChatCompletionEncoder: CompletionEncoder {
    let identity: ResponseIdentity
    let logprobs: LogprobRenderer
    /// Choices whose role was already sent.
    private var roleSent: Set<Int> = []

    init(identity: ResponseIdentity, logprobs: LogprobRenderer) {
        self.identity = identity
        self.logprobs = logprobs
    }

    mutating func chunk(_ delta: ChoiceDelta) -> Data {
        let first = roleSent.insert(delta.index).inserted
        let message = ChatCompletionResponse.Message(
            role: first ? "assistant" : nil, content: delta.finishReason != nil && delta.text.isEmpty ? nil : delta.text)
        let choice = ChatCompletionResponse.Choice(
            index: delta.index, delta: message, logprobs: logprobs.chat(delta.logprobs), finishReason: delta.finishReason)
        return response("chat.completion.chunk", [choice], usage: nil)
    }

    func usageChunk(_ usage: Usage) -> Data {
        response("chat.completion.chunk", [], usage: usage)
    }

    func body(_ choices: [ChoiceResult], usage: Usage) -> Data {
        response("chat.completion", choices.map { c in
            ChatCompletionResponse.Choice(
                index: c.index, message: .init(role: "assistant", content: c.text), logprobs: logprobs.chat(c.logprobs),
                finishReason: c.finishReason)
        }, usage: usage)
    }

    private func response(_ object: String, _ choices: [ChatCompletionResponse.Choice], usage: Usage?) -> Data {
        JSONCoding.encode(ChatCompletionResponse(
            id: identity.id, object: object, created: identity.created, model: identity.model, choices: choices, usage: usage))
    }
}
