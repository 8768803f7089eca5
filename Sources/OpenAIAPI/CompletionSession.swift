import Engine
import Foundation
import HTTPServer
import Synchronization
import Tokenization

/// One HTTP completion request in flight: its choices (prompt × n) running in the engine, and the
/// response they produce — one JSON body at the end, or server-sent events as tokens arrive.
///
/// Engine events arrive on the engine thread; all mutable state sits behind one mutex and the
/// responder is thread-safe, so nothing here blocks the engine for longer than a JSON encode.
final class CompletionSession: Sendable {
    enum Flavor: Sendable { case completion, chat }

    /// One choice to run: the engine request and the prompt text to echo, if any.
    struct Choice: Sendable {
        var request: GenerationRequest
        var echo: String?
    }

    struct Options: Sendable {
        var flavor: Flavor
        var stream: Bool
        var includeUsage: Bool
        var stops: [String]
        var logprobs: Int?
        var model: String
    }

    private struct State {
        var decoders: [ChoiceDecoder]
        var finished: [Bool]
        var completionTokens: [Int]
        /// Prompt tokens of each choice served from the prefix cache.
        var cachedTokens: [Int]
        var firstTokenAt: UInt64?
        var lastTokenAt: [UInt64?]
        var done = false
        var sentRole: [Bool]
    }

    let id: String
    let created: Int
    private let options: Options
    private let choices: [Choice]
    private let responder: HTTPResponder
    private let engine: InferenceEngine
    private let metrics: APIMetrics
    private let tokenizer: Tokenizer
    private let startedAt: UInt64
    private let onDone: @Sendable (_ status: Int, _ promptTokens: Int, _ completionTokens: Int) -> Void
    /// Told how many of this session's engine sequences ended (their `.finished`, or never submitted).
    private let onSequencesEnded: @Sendable (_ count: Int) -> Void
    private let state: Mutex<State>

    init(id: String, options: Options, choices: [Choice], tokenizer: Tokenizer, engine: InferenceEngine,
         metrics: APIMetrics, responder: HTTPResponder,
         onDone: @escaping @Sendable (_ status: Int, _ promptTokens: Int, _ completionTokens: Int) -> Void,
         onSequencesEnded: @escaping @Sendable (_ count: Int) -> Void = { _ in }) {
        self.id = id
        self.created = Int(Date().timeIntervalSince1970)
        self.options = options
        self.choices = choices
        self.tokenizer = tokenizer
        self.engine = engine
        self.metrics = metrics
        self.responder = responder
        self.onDone = onDone
        self.onSequencesEnded = onSequencesEnded
        startedAt = DispatchTime.now().uptimeNanoseconds
        state = Mutex(State(
            decoders: choices.map { _ in ChoiceDecoder(tokenizer: tokenizer, stops: options.stops) },
            finished: choices.map { _ in false }, completionTokens: choices.map { _ in 0 }, cachedTokens: choices.map { _ in 0 },
            lastTokenAt: choices.map { _ in nil }, sentRole: choices.map { _ in false }))
    }

    private var promptTokenTotal: Int { choices.reduce(0) { $0 + $1.request.promptTokenIds.count } }

    /// Submits every choice; a client that goes away cancels them all.
    func start() throws(EngineError) {
        if options.stream {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            headers.add(name: "Cache-Control", value: "no-cache")
            _ = responder.startStream(status: .ok, headers: headers)
            for (index, choice) in choices.enumerated() {
                if let echo = choice.echo, !echo.isEmpty { sendChunk(index: index, text: echo, logprobs: [], finishReason: nil) }
            }
        }
        metrics.promptTokens.increment(by: promptTokenTotal)
        var submitted: [String] = []
        do {
            for (index, choice) in choices.enumerated() {
                try engine.submit(choice.request) { [self] event in
                    if case .finished = event { onSequencesEnded(1) }
                    self.receive(event, choice: index)
                }
                submitted.append(choice.request.id)
            }
        } catch {
            for id in submitted { engine.cancel(id) }
            onSequencesEnded(choices.count - submitted.count)
            state.withLock { $0.done = true }
            if options.stream {
                // The 200 head is out: the error goes into the stream, which then ends.
                sendEvent(JSONCoding.encode(APIError(error).envelope))
                responder.finish()
            }
            throw error
        }
        responder.onClose { [self] in
            let wasDone = state.withLock { $0.done }
            guard !wasDone else { return }
            metrics.clientDisconnects.increment()
            for choice in choices { engine.cancel(choice.request.id) }
        }
    }

    private func receive(_ event: GenerationEvent, choice index: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        switch event {
        case let .tokens(tokens, logprobs):
            let (delta, newLogprobs, stopped, first, gap, offset) = state.withLock { s -> (String, [TokenLogprob], Bool, Bool, UInt64?, Int) in
                guard !s.finished[index] else { return ("", [], false, false, nil, 0) }
                let offset = (choices[index].echo?.count ?? 0) + s.decoders[index].text.count
                let before = s.decoders[index].logprobs.count
                let delta = s.decoders[index].consume(tokens, logprobs: logprobs)
                let added = Array(s.decoders[index].logprobs[before...])
                let first = s.firstTokenAt == nil
                if first { s.firstTokenAt = now }
                let gap = s.lastTokenAt[index].map { now - $0 }
                s.lastTokenAt[index] = now
                let stopped = s.decoders[index].hitStopString
                if stopped {
                    s.finished[index] = true
                    s.completionTokens[index] = s.decoders[index].tokenCount
                }
                return (delta, added, stopped, first, gap, offset)
            }
            if first { metrics.timeToFirstToken.recordNanoseconds(Int64(now - startedAt)) }
            if let gap, !tokens.isEmpty { metrics.interTokenLatency.recordNanoseconds(Int64(gap) / Int64(tokens.count)) }
            if options.stream, !delta.isEmpty || (!newLogprobs.isEmpty && options.logprobs != nil) {
                sendChunk(index: index, text: delta, logprobs: newLogprobs, finishReason: nil, textOffset: offset)
            }
            if stopped {
                engine.cancel(choices[index].request.id, reason: .stop)
                if options.stream { sendChunk(index: index, text: "", logprobs: [], finishReason: "stop") }
                metrics.requestFinished(reason: "stop")
                finishIfAllDone()
            }
        case .promptLogprobs:
            return  // this API does not ask the engine for prompt logprobs yet
        case let .finished(reason, _, completionTokens, cachedTokens):
            let ended: (tail: String, reason: String)? = state.withLock { s in
                guard !s.finished[index] else { return nil }
                s.finished[index] = true
                let tail = s.decoders[index].finish()
                // A stop string completed by the last flushed bytes ends the choice by "stop" too.
                let finishReason = s.decoders[index].hitStopString || reason == .stop ? "stop" : (reason == .length ? "length" : "abort")
                s.decoders[index].finishReason = finishReason
                s.completionTokens[index] = completionTokens
                s.cachedTokens[index] = cachedTokens
                return (tail, finishReason)
            }
            guard let (tail, finishReason) = ended else { return }
            metrics.requestFinished(reason: finishReason)
            if options.stream, reason != .abort { sendChunk(index: index, text: tail, logprobs: [], finishReason: finishReason) }
            finishIfAllDone()
        }
    }

    private func finishIfAllDone() {
        let snapshot: State? = state.withLock { s in
            guard !s.done, !s.finished.contains(false) else { return nil }
            s.done = true
            return s
        }
        guard let s = snapshot else { return }
        let completion = s.completionTokens.reduce(0, +)
        let usage = Usage(promptTokens: promptTokenTotal, completionTokens: completion, cachedTokens: s.cachedTokens.reduce(0, +))
        metrics.generationTokens.increment(by: completion)
        metrics.endToEndLatency.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - startedAt))
        if options.stream {
            if options.includeUsage { sendEvent(usageChunk(usage)) }
            _ = responder.write(Data("data: [DONE]\n\n".utf8))
            responder.finish()
        } else {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            _ = responder.send(HTTPResponse(status: .ok, headers: headers, body: finalBody(s, usage: usage)))
        }
        onDone(200, usage.promptTokens, usage.completionTokens)
    }

    // MARK: - Bodies

    private func finalBody(_ s: State, usage: Usage) -> Data {
        switch options.flavor {
        case .completion:
            let out = choices.indices.map { i in
                CompletionResponse.Choice(
                    text: (choices[i].echo ?? "") + s.decoders[i].text, index: i,
                    logprobs: options.logprobs.map { completionLogprobs(s.decoders[i].logprobs, topCount: $0, offset: choices[i].echo?.count ?? 0) },
                    finishReason: s.decoders[i].finishReason)
            }
            return JSONCoding.encode(CompletionResponse(id: id, created: created, model: options.model, choices: out, usage: usage))
        case .chat:
            let out = choices.indices.map { i in
                ChatCompletionResponse.Choice(
                    index: i, message: .init(role: "assistant", content: s.decoders[i].text),
                    logprobs: options.logprobs.map { chatLogprobs(s.decoders[i].logprobs, topCount: $0) },
                    finishReason: s.decoders[i].finishReason)
            }
            return JSONCoding.encode(ChatCompletionResponse(id: id, object: "chat.completion", created: created, model: options.model, choices: out, usage: usage))
        }
    }

    private func sendChunk(index: Int, text: String, logprobs: [TokenLogprob], finishReason: String?, textOffset: Int = 0) {
        switch options.flavor {
        case .completion:
            let choice = CompletionResponse.Choice(
                text: text, index: index,
                logprobs: options.logprobs.map { completionLogprobs(logprobs, topCount: $0, offset: textOffset) },
                finishReason: finishReason)
            sendEvent(JSONCoding.encode(CompletionResponse(id: id, created: created, model: options.model, choices: [choice], usage: nil)))
        case .chat:
            let firstForChoice = state.withLock { s -> Bool in
                defer { s.sentRole[index] = true }
                return !s.sentRole[index]
            }
            let delta = ChatCompletionResponse.Message(role: firstForChoice ? "assistant" : nil, content: finishReason != nil && text.isEmpty ? nil : text)
            let choice = ChatCompletionResponse.Choice(
                index: index, delta: delta,
                logprobs: options.logprobs.map { chatLogprobs(logprobs, topCount: $0) }, finishReason: finishReason)
            sendEvent(JSONCoding.encode(ChatCompletionResponse(id: id, object: "chat.completion.chunk", created: created, model: options.model, choices: [choice], usage: nil)))
        }
    }

    private func usageChunk(_ usage: Usage) -> Data {
        switch options.flavor {
        case .completion:
            return JSONCoding.encode(CompletionResponse(id: id, created: created, model: options.model, choices: [], usage: usage))
        case .chat:
            return JSONCoding.encode(ChatCompletionResponse(id: id, object: "chat.completion.chunk", created: created, model: options.model, choices: [], usage: usage))
        }
    }

    private func sendEvent(_ json: Data) {
        var event = Data("data: ".utf8)
        event.append(json)
        event.append(Data("\n\n".utf8))
        _ = responder.write(event)
    }

    private func completionLogprobs(_ entries: [TokenLogprob], topCount: Int, offset: Int) -> CompletionLogprobs {
        var out = CompletionLogprobs()
        var position = offset
        for entry in entries {
            let text = tokenizerText(entry.tokenId)
            out.tokens.append(text)
            out.tokenLogprobs.append(Double(entry.logprob))
            var top: [String: Double] = [:]
            for alt in entry.topAlternatives.prefix(topCount) { top[tokenizerText(alt.tokenId)] = Double(alt.logprob) }
            out.topLogprobs.append(topCount > 0 ? top : nil)
            out.textOffset.append(position)
            position += text.count
        }
        return out
    }

    private func chatLogprobs(_ entries: [TokenLogprob], topCount: Int) -> ChatCompletionResponse.Logprobs {
        .init(content: entries.map { entry in
            let text = tokenizerText(entry.tokenId)
            return .init(token: text, logprob: Double(entry.logprob), bytes: Array(text.utf8),
                         topLogprobs: entry.topAlternatives.prefix(topCount).map { alt in
                             let t = tokenizerText(alt.tokenId)
                             return .init(token: t, logprob: Double(alt.logprob), bytes: Array(t.utf8))
                         })
        })
    }

    private func tokenizerText(_ id: Int32) -> String {
        (try? tokenizer.decode([Int(id)])) ?? ""
    }
}
