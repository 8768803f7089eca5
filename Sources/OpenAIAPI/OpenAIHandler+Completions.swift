import Engine
import Foundation
import HTTPServer
import StructuredOutput
import Synchronization
import Tokenization

extension OpenAIHandler {
    func startCompletion(_ request: HTTPRequest, model: ServedModel, responder: HTTPResponder,
                         log: @escaping @Sendable (Int, Int, Int) -> Void) throws(APIError) {
        let body = try RequestBodyDecoding.completion(request.body)
        try checkModelName(body.model)
        let prompts: [[Int32]]
        switch body.prompt {
        case let .text(s): prompts = [model.tokenizer.encode(s).map(Int32.init)]
        case let .texts(list): prompts = list.map { model.tokenizer.encode($0).map(Int32.init) }
        case let .tokens(ids): prompts = [try checkedTokens(ids, model: model, param: "prompt")]
        case let .tokenBatches(batches): prompts = try batches.map { ids throws(APIError) in try checkedTokens(ids, model: model, param: "prompt") }
        }
        guard !prompts.isEmpty else { throw .invalidField(param: "prompt", message: "'prompt' must not be an empty list.") }
        var fields = body.samplingFields
        let echo = body.echo ?? false
        // `echo` with `max_tokens: 0` scores the prompt without generating (evaluation clients): the
        // engine runs one step and the choice drops what it generated.
        let scoreOnly = echo && body.maxTokens == 0
        if scoreOnly { fields.maxTokens = 1 }
        if echo, body.logprobs != nil, body.stream == true {
            throw .invalidField(param: "echo", message: "'echo' with 'logprobs' (prompt logprobs) is supported on non-streamed requests only; drop 'stream' or 'logprobs'.")
        }
        let constraint = try responseConstraint(body.responseFormat, fields: fields, model: model)
        var choices = try makeChoices(prompts: prompts, fields: fields, defaultMaxTokens: 16, logprobs: body.logprobs,
                                      logprobsField: "logprobs", model: model, constraint: constraint,
                                      echoTexts: echo ? prompts.map { (try? model.tokenizer.decode($0.map(Int.init))) ?? "" } : nil)
        if echo, let logprobs = body.logprobs {
            for i in choices.indices { choices[i].request.promptLogprobs = logprobs }
        }
        for i in choices.indices { choices[i].scoreOnly = scoreOnly }
        let options = CompletionSession.Options(flavor: .completion, stream: body.stream ?? false,
                                                includeUsage: body.streamOptions?.includeUsage ?? false,
                                                stops: try fields.stopStrings(), logprobs: body.logprobs, model: settings.servedModelName)
        try run(choices: choices, options: options, idPrefix: "cmpl", model: model, request: request, responder: responder, log: log)
    }

    func startChat(_ request: HTTPRequest, model: ServedModel, responder: HTTPResponder,
                   log: @escaping @Sendable (Int, Int, Int) -> Void) throws(APIError) {
        let body = try RequestBodyDecoding.chat(request.body)
        try checkModelName(body.model)
        guard !body.messages.isEmpty else { throw .invalidField(param: "messages", message: "'messages' must contain at least one message.") }
        for (i, m) in body.messages.enumerated() where !["system", "user", "assistant", "tool", "developer"].contains(m.role) {
            throw .invalidField(param: "messages[\(i)].role", message: "'messages[\(i)].role' must be system, user or assistant, got '\(m.role)'.")
        }
        let text = model.chatTemplate.render(body.messages.map { ChatMessage(role: $0.role == "developer" ? "system" : $0.role, content: $0.content) },
                                             addGenerationPrompt: true)
        let prompt = model.tokenizer.encode(text).map(Int32.init)
        let logprobs = body.logprobs == true ? body.topLogprobs ?? 0 : nil
        let fields = body.samplingFields
        // Chat without max_tokens may use the rest of the context (as OpenAI does), within what the KV cache holds.
        let room = min(model.maxModelLength, model.engine.kvLayout.entryCapacity) - prompt.count
        let constraint = try responseConstraint(body.responseFormat, fields: fields, model: model)
        let choices = try makeChoices(prompts: [prompt], fields: fields, defaultMaxTokens: max(1, room),
                                      logprobs: logprobs, logprobsField: "top_logprobs", model: model, constraint: constraint, echoTexts: nil)
        let options = CompletionSession.Options(flavor: .chat, stream: body.stream ?? false,
                                                includeUsage: body.streamOptions?.includeUsage ?? false,
                                                stops: try fields.stopStrings(), logprobs: logprobs, model: settings.servedModelName)
        try run(choices: choices, options: options, idPrefix: "chatcmpl", model: model, request: request, responder: responder, log: log)
    }

    /// The request's output constraint; `ignore_eos` cannot go with one (a finished JSON value must end).
    private func responseConstraint(_ format: ResponseFormat?, fields: SamplingFields, model: ServedModel) throws(APIError) -> TokenConstraint? {
        guard let constraint = try format?.constraint(from: model.constraints) else { return nil }
        if fields.ignoreEos == true {
            throw .invalidField(param: "ignore_eos", message: "'ignore_eos' cannot be combined with 'response_format': the output ends where the JSON value does.")
        }
        return constraint
    }

    private func checkModelName(_ name: String?) throws(APIError) {
        if let name, name != settings.servedModelName { throw .modelNotFound(name) }
    }

    private func checkedTokens(_ ids: [Int], model: ServedModel, param: String) throws(APIError) -> [Int32] {
        let vocab = model.tokenizer.vocabularySize
        for id in ids where id < 0 || id >= vocab {
            throw .invalidField(param: param, message: "'\(param)' contains token id \(id), outside the vocabulary 0..<\(vocab).")
        }
        return ids.map { Int32($0) }
    }

    /// Maps the wire fields to one engine request per choice; the engine's `validate` is the one judge
    /// of every rule on them (lengths, ids, ranges), its refusal mapped to the field that caused it.
    private func makeChoices(prompts: [[Int32]], fields: SamplingFields, defaultMaxTokens: Int, logprobs: Int?, logprobsField: String,
                             model: ServedModel, constraint: TokenConstraint? = nil, echoTexts: [String]?) throws(APIError) -> [CompletionSession.Choice] {
        let n = try fields.choiceCount()
        let maxTokens = fields.maxTokenCount(default: defaultMaxTokens)
        let decoding = try fields.decodingMode(default: settings.defaultDecoding, adapterConfidence: model.engine.hamburgerDefaultConfidence,
                                               adapterMinProbability: model.engine.hamburgerDefaultMinProbability)
        var choices: [CompletionSession.Choice] = []
        for (p, prompt) in prompts.enumerated() {
            for i in 0..<n {
                let index = p * n + i
                let request = GenerationRequest(
                    id: nextID("seq"), promptTokenIds: prompt, sampling: try fields.sampling(choice: index), maxTokens: maxTokens,
                    ignoresEndOfSequence: fields.ignoreEos ?? false, decoding: decoding, logprobs: logprobs, constraint: constraint)
                do { try model.engine.validate(request) } catch { throw APIError(error, logprobsField: logprobsField) }
                choices.append(.init(request: request, echo: echoTexts?[p]))
            }
        }
        return choices
    }

    /// Starts the session; an engine failure that ends it before any byte was sent comes back here to
    /// be answered like every other error (`send`).
    private func run(choices: [CompletionSession.Choice], options: CompletionSession.Options, idPrefix: String, model: ServedModel,
                     request: HTTPRequest, responder: HTTPResponder, log: @escaping @Sendable (Int, Int, Int) -> Void) throws(APIError) {
        let session = CompletionSession(id: nextID(idPrefix), options: options, choices: choices, tokenizer: model.tokenizer,
                                        engine: model.engine, metrics: metrics, responder: responder, onDone: log,
                                        onError: { [self] error in
                                            send(error, to: responder, request: request)
                                            log(error.status, 0, 0)
                                        })
        do { try session.start() } catch { throw APIError(error) }
    }
}

extension APIError {
    /// The one mapping from engine refusals to API errors; `logprobsField` names the wire field that
    /// carried the request's logprobs (`logprobs`, or chat's `top_logprobs`).
    init(_ error: EngineError, logprobsField: String = "logprobs") {
        switch error {
        case let .exceedsMaxModelLength(_, prompt, maxTokens, limit):
            self = .contextLengthExceeded(maxContext: limit, requested: prompt + maxTokens, promptTokens: prompt, maxTokens: maxTokens)
        case .exceedsKVCapacity:
            self = .invalidField(param: "max_tokens", message: error.description)
        case let .invalidSamplingParameter(name, _, _):
            self = .invalidField(param: name, message: error.description)
        case let .invalidLogprobs(_, logprobs, maximum):
            self = .invalidField(param: logprobsField, message: "'\(logprobsField)' must be between 0 and \(maximum), got \(logprobs).")
        case let .invalidMaxTokens(_, maxTokens):
            self = .invalidField(param: "max_tokens", message: "'max_tokens' must be at least 1, got \(maxTokens).")
        case .overloaded:
            self = .overloaded(retryAfterSeconds: 1)
        case .emptyPrompt, .tokenOutOfRange:
            self = .invalidField(param: "prompt", message: error.description)
        case .decodingModeUnavailable:
            self = .invalidField(param: "decoding", message: error.description)
        case .engineStopped:
            self = .unavailable("The server is shutting down and takes no new requests.")
        case .duplicateRequestId, .invalidConfiguration, .nonFiniteLogits, .forwardFailed:
            self = .internalError(error.description)
        }
    }
}
