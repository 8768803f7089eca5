import Foundation

/// `/v1/completions` on the wire: `text_completion` objects, the same shape streamed or whole.
struct TextCompletionEncoder: CompletionEncoder {
    let identity: ResponseIdentity
    let logprobs: LogprobRenderer

    func chunk(_ delta: ChoiceDelta) -> Data {
        let choice = CompletionResponse.Choice(
            text: delta.text, index: delta.index, logprobs: logprobs.completion(delta.logprobs, offset: delta.textOffset),
            finishReason: delta.finishReason)
        return response([choice], usage: nil)
    }

    func usageChunk(_ usage: Usage) -> Data {
        response([], usage: usage)
    }

    func body(_ choices: [ChoiceResult], usage: Usage) -> Data {
        response(choices.map { c in
            CompletionResponse.Choice(
                text: c.echo + c.text, index: c.index,
                logprobs: logprobs.completion(c.logprobs, offset: c.echo.count, promptTokenIds: c.promptTokenIds, promptLogprobs: c.promptLogprobs),
                finishReason: c.finishReason)
        }, usage: usage)
    }

    private func response(_ choices: [CompletionResponse.Choice], usage: Usage?) -> Data {
        JSONCoding.encode(CompletionResponse(id: identity.id, created: identity.created, model: identity.model, choices: choices, usage: usage))
    }
}
