import Engine
import Foundation
import HTTPServer
import Synchronization
import Tokenization

/// One HTTP completion request in flight: the thin I/O shell around `CompletionStream`. It submits
/// the choices (prompt × n) to the engine, feeds the machine their events with the time, and performs
/// the actions it returns on the responder, the engine and the metrics.
///
/// Engine events arrive on the engine thread; the machine sits behind one mutex and actions run
/// outside it (the responder is thread-safe), so nothing here blocks the engine for longer than a
/// JSON encode.
final class CompletionSession: Sendable {
    enum Flavor: Sendable { case completion, chat }

    /// One choice to run: the engine request and the prompt text to echo, if any.
    struct Choice: Sendable {
        var request: GenerationRequest
        var echo: String?
        /// `echo` with `max_tokens: 0`: what the engine generates is dropped (the prompt is only scored).
        var scoreOnly = false
    }

    struct Options: Sendable {
        var flavor: Flavor
        var stream: Bool
        var includeUsage: Bool
        var stops: [String]
        var logprobs: Int?
        var model: String
    }

    let id: String
    private let choices: [Choice]
    private let responder: HTTPResponder
    private let engine: InferenceEngine
    private let metrics: APIMetrics
    private let clock: @Sendable () -> UInt64
    private let onDone: @Sendable (_ status: Int, _ promptTokens: Int, _ completionTokens: Int) -> Void
    /// Answers a response that failed before its head went out (the handler's one error path).
    private let onError: @Sendable (APIError) -> Void
    private let machine: Mutex<CompletionStream>

    init(id: String, options: Options, choices: [Choice], tokenizer: Tokenizer, engine: InferenceEngine,
         metrics: APIMetrics, responder: HTTPResponder,
         clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds },
         onDone: @escaping @Sendable (_ status: Int, _ promptTokens: Int, _ completionTokens: Int) -> Void,
         onError: @escaping @Sendable (APIError) -> Void) {
        self.id = id
        self.choices = choices
        self.engine = engine
        self.metrics = metrics
        self.responder = responder
        self.clock = clock
        self.onDone = onDone
        self.onError = onError
        let identity = ResponseIdentity(id: id, created: Int(Date().timeIntervalSince1970), model: options.model)
        let logprobs = LogprobRenderer(tokenizer: tokenizer, topCount: options.logprobs)
        let encoder: any CompletionEncoder = switch options.flavor {
        case .completion: TextCompletionEncoder(identity: identity, logprobs: logprobs)
        case .chat: ChatCompletionEncoder(identity: identity, logprobs: logprobs)
        }
        machine = Mutex(CompletionStream(
            options: .init(stream: options.stream, includeUsage: options.includeUsage, stops: options.stops,
                           wantsLogprobs: options.logprobs != nil),
            encoder: encoder, tokenizer: tokenizer,
            choices: choices.map { ($0.request.promptTokenIds.count, $0.echo ?? "") }, startedAt: clock(),
            scoring: choices.map { .init(promptTokenIds: $0.request.promptLogprobs != nil ? $0.request.promptTokenIds : [], scoreOnly: $0.scoreOnly) }))
    }

    /// Submits every choice (all or none: the engine owns the queue bound); a client that goes away
    /// cancels them all.
    func start() throws(EngineError) {
        perform(machine.withLock { $0.start() })
        do {
            try engine.submit(choices.map(\.request)) { [self] index, event in
                let now = clock()
                perform(machine.withLock { $0.receive(event, choice: index, now: now) })
            }
        } catch {
            perform(machine.withLock { $0.submitFailed(APIError(error)) })
            throw error
        }
        responder.onClose { [self] in
            perform(machine.withLock { $0.clientClosed() })
        }
    }

    private func perform(_ actions: [CompletionStream.Action]) {
        for action in actions {
            switch action {
            case .startStream:
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "text/event-stream")
                headers.add(name: "Cache-Control", value: "no-cache")
                _ = responder.startStream(status: .ok, headers: headers)
            case let .write(data):
                _ = responder.write(data)
            case .endStream:
                responder.finish()
            case let .respond(body):
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                _ = responder.send(HTTPResponse(status: .ok, headers: headers, body: body))
            case let .cancel(index, reason):
                engine.cancel(choices[index].request.id, reason: reason)
            case .cancelAll:
                for choice in choices { engine.cancel(choice.request.id) }
            case let .record(measurement):
                metrics.record(measurement)
            case let .completed(usage):
                onDone(200, usage.promptTokens, usage.completionTokens)
            case let .respondError(error):
                onError(error)
            }
        }
    }
}
