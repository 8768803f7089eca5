import Foundation
import HTTPServer
import Tokenization

/// `POST /tokenize` and `POST /detokenize`, shaped like vLLM's.
extension OpenAIHandler {
    struct TokenizeBody: Decodable {
        var model: String?
        var prompt: String?
        var messages: [ChatCompletionRequest.Message]?
        var addGenerationPrompt: Bool?
        enum CodingKeys: String, CodingKey { case model, prompt, messages, addGenerationPrompt = "add_generation_prompt" }
    }
    struct TokenizeResult: Encodable {
        var count: Int
        var maxModelLen: Int
        var tokens: [Int]
        enum CodingKeys: String, CodingKey { case count, tokens, maxModelLen = "max_model_len" }
    }
    struct DetokenizeBody: Decodable { var model: String?; var tokens: [Int] }
    struct DetokenizeResult: Encodable { var prompt: String }

    func tokenize(_ request: HTTPRequest, model: ServedModel) throws(APIError) -> Data {
        let body = try JSONCoding.decode(TokenizeBody.self, from: request.body)
        if let name = body.model, name != settings.servedModelName { throw .modelNotFound(name) }
        let text: String
        if let prompt = body.prompt {
            text = prompt
        } else if let messages = body.messages {
            text = model.chatTemplate.render(messages.map { ChatMessage(role: $0.role, content: $0.content) },
                                             addGenerationPrompt: body.addGenerationPrompt ?? true)
        } else {
            throw .invalidField(param: "prompt", message: "Send 'prompt' (a string) or 'messages'.")
        }
        let ids = model.tokenizer.encode(text)
        return JSONCoding.encode(TokenizeResult(count: ids.count, maxModelLen: model.maxModelLength, tokens: ids))
    }

    func detokenize(_ request: HTTPRequest, model: ServedModel) throws(APIError) -> Data {
        let body = try JSONCoding.decode(DetokenizeBody.self, from: request.body)
        if let name = body.model, name != settings.servedModelName { throw .modelNotFound(name) }
        do {
            return JSONCoding.encode(DetokenizeResult(prompt: try model.tokenizer.decode(body.tokens)))
        } catch {
            throw .invalidField(param: "tokens", message: "'tokens' is invalid: \(error)")
        }
    }
}
