import Engine
import Foundation
import Tokenization

/// The life of one completion response as a value-type state machine: engine events in, actions out.
///
/// It owns each choice's text (detokenizer and stop strings, `ChoiceDecoder`), decides when a choice
/// and the whole response end and with which `FinishReason`, what goes into the stream or the final
/// body (through the flavour's `CompletionEncoder`), and which latencies are due. It does no I/O and
/// reads no clock: the shell (`CompletionSession`) passes instants in and performs the actions in
/// order, so tests drive it without sockets or an engine.
struct CompletionStream: Sendable {
    /// What the shell must do, in order.
    enum Action: Sendable, Equatable {
        /// Send the `200 text/event-stream` head.
        case startStream
        /// Write one server-sent event (already framed: `data: ...\n\n`).
        case write(Data)
        /// End the stream (after its last event).
        case endStream
        /// Send the whole response: `200 application/json` with this body.
        case respond(Data)
        /// Send this error as the whole response (its status and OpenAI envelope), nothing having been sent.
        case respondError(APIError)
        /// Stop the choice's engine request; its `.finished` will carry `reason`.
        case cancel(choice: Int, reason: FinishReason)
        /// The client went away: stop every choice's engine request.
        case cancelAll
        /// Record a measurement.
        case record(Measurement)
        /// The response is complete (for the access log).
        case completed(Usage)
    }

    /// The figures a response produces, as `APIMetrics` records them.
    enum Measurement: Sendable, Equatable {
        case promptTokens(Int)
        case generationTokens(Int)
        case timeToFirstToken(nanoseconds: UInt64)
        /// Gap since the choice's previous tokens, per token of this event.
        case interTokenLatency(nanoseconds: UInt64)
        case endToEndLatency(nanoseconds: UInt64)
        case requestFinished(FinishReason)
        case clientDisconnect
    }

    struct Options: Sendable, Equatable {
        var stream: Bool
        var includeUsage: Bool
        var stops: [String]
        /// Whether logprobs were asked for (a chunk with only logprobs is then worth sending).
        var wantsLogprobs: Bool
    }

    /// Per choice, what evaluation clients ask for: the prompt tokens whose logprobs come back with
    /// the echo (empty: none), and whether the generated tokens are dropped (`max_tokens: 0`).
    struct Scoring: Sendable, Equatable {
        var promptTokenIds: [Int32] = []
        var scoreOnly = false
    }

    private struct ChoiceState: Sendable {
        var decoder: ChoiceDecoder
        let echo: String
        let promptTokens: Int
        var scoring = Scoring()
        /// Logprobs of prompt tokens 1... (token 0 has none), as they arrive.
        var promptLogprobs: [TokenLogprob] = []
        var finishReason: FinishReason?
        var completionTokens = 0
        /// Prompt tokens served from the prefix cache.
        var cachedTokens = 0
        var lastTokenAt: UInt64?
    }

    private let options: Options
    private var encoder: any CompletionEncoder
    private var choices: [ChoiceState]
    private let startedAt: UInt64
    private var firstTokenAt: UInt64?
    /// Set once the response is sent (or failed): later events change nothing on the wire.
    private(set) var isDone = false

    /// `choices`: per choice, its prompt length and the prompt text to echo ("" for none).
    init(options: Options, encoder: any CompletionEncoder, tokenizer: Tokenizer,
         choices: [(promptTokens: Int, echo: String)], startedAt: UInt64, scoring: [Scoring] = []) {
        self.options = options
        self.encoder = encoder
        self.startedAt = startedAt
        self.choices = choices.enumerated().map { i, c in
            ChoiceState(decoder: ChoiceDecoder(tokenizer: tokenizer, stops: options.stops), echo: c.echo, promptTokens: c.promptTokens,
                        scoring: i < scoring.count ? scoring[i] : Scoring())
        }
    }

    private var promptTokenTotal: Int { choices.reduce(0) { $0 + $1.promptTokens } }

    /// Before the choices are submitted: the stream head and echoed prompts, and the prompt count.
    mutating func start() -> [Action] {
        var actions: [Action] = []
        if options.stream {
            actions.append(.startStream)
            for (index, choice) in choices.enumerated() where !choice.echo.isEmpty {
                actions.append(event(encoder.chunk(ChoiceDelta(index: index, text: choice.echo))))
            }
        }
        actions.append(.record(.promptTokens(promptTokenTotal)))
        return actions
    }

    /// A choice could not be submitted (the shell cancels those that were): the response ends with
    /// the error, in the stream when its head is out (otherwise the caller sends the error response).
    mutating func submitFailed(_ error: APIError) -> [Action] {
        isDone = true
        guard options.stream else { return [] }
        return [event(JSONCoding.encode(error.envelope)), .endStream]
    }

    /// The connection closed: a response not yet complete stops its choices.
    func clientClosed() -> [Action] {
        isDone ? [] : [.record(.clientDisconnect), .cancelAll]
    }

    /// One engine event for choice `index`, at `now` (nanoseconds on the clock `startedAt` is on).
    mutating func receive(_ event: GenerationEvent, choice index: Int, now: UInt64) -> [Action] {
        guard !isDone, choices.indices.contains(index), choices[index].finishReason == nil else { return [] }
        switch event {
        case let .promptLogprobs(logprobs):
            choices[index].promptLogprobs += logprobs
            return []
        case let .tokens(tokens, logprobs):
            if choices[index].scoring.scoreOnly { return [] }
            return receiveTokens(tokens, logprobs: logprobs, choice: index, now: now)
        case let .finished(reason, _, completionTokens, cachedTokens):
            var choice = choices[index]
            let tail = choice.decoder.finish()
            // A stop string completed by the last flushed bytes ends the choice by `.stop` too; a
            // scored prompt (`max_tokens: 0`) ends by length, having generated nothing.
            let finish: FinishReason = choice.scoring.scoreOnly && reason != .abort ? .length : (choice.decoder.hitStopString ? .stop : reason)
            choice.finishReason = finish
            choice.completionTokens = choice.scoring.scoreOnly ? 0 : completionTokens
            choice.cachedTokens = cachedTokens
            choices[index] = choice
            var actions: [Action] = [.record(.requestFinished(finish))]
            if options.stream, reason != .abort {
                actions.append(self.event(encoder.chunk(ChoiceDelta(index: index, text: tail, finishReason: finish))))
            }
            return actions + finishIfAllDone(now: now)
        case let .failed(error, _, completionTokens):
            choices[index].completionTokens = completionTokens
            return fail(APIError(error))
        }
    }

    /// The engine could not compute a choice: the whole response ends with `error` and the other
    /// choices are stopped. A stream already started gets the error as an event, then `[DONE]` (as
    /// vLLM and OpenAI end a stream that failed); otherwise the error is the response (500).
    private mutating func fail(_ error: APIError) -> [Action] {
        isDone = true
        guard options.stream else { return [.cancelAll, .respondError(error)] }
        let usage = Usage(promptTokens: promptTokenTotal, completionTokens: choices.reduce(0) { $0 + $1.completionTokens },
                          cachedTokens: choices.reduce(0) { $0 + $1.cachedTokens })
        return [.cancelAll, event(JSONCoding.encode(error.envelope)), .write(Data("data: [DONE]\n\n".utf8)), .endStream, .completed(usage)]
    }

    private mutating func receiveTokens(_ tokens: [Int32], logprobs: [TokenLogprob]?, choice index: Int, now: UInt64) -> [Action] {
        var choice = choices[index]
        let offset = choice.echo.count + choice.decoder.text.count
        let before = choice.decoder.logprobs.count
        let text = choice.decoder.consume(tokens, logprobs: logprobs)
        let added = Array(choice.decoder.logprobs[before...])
        var actions: [Action] = []
        if firstTokenAt == nil {
            firstTokenAt = now
            actions.append(.record(.timeToFirstToken(nanoseconds: now &- startedAt)))
        }
        if let last = choice.lastTokenAt, !tokens.isEmpty {
            actions.append(.record(.interTokenLatency(nanoseconds: (now &- last) / UInt64(tokens.count))))
        }
        choice.lastTokenAt = now
        let stopped = choice.decoder.hitStopString
        if stopped {
            choice.finishReason = .stop
            choice.completionTokens = choice.decoder.tokenCount
        }
        choices[index] = choice
        if options.stream, !text.isEmpty || (!added.isEmpty && options.wantsLogprobs) {
            actions.append(event(encoder.chunk(ChoiceDelta(index: index, text: text, logprobs: added, textOffset: offset))))
        }
        guard stopped else { return actions }
        actions.append(.cancel(choice: index, reason: .stop))
        if options.stream { actions.append(event(encoder.chunk(ChoiceDelta(index: index, text: "", finishReason: .stop)))) }
        actions.append(.record(.requestFinished(.stop)))
        return actions + finishIfAllDone(now: now)
    }

    private mutating func finishIfAllDone(now: UInt64) -> [Action] {
        guard !isDone, choices.allSatisfy({ $0.finishReason != nil }) else { return [] }
        isDone = true
        let completion = choices.reduce(0) { $0 + $1.completionTokens }
        let usage = Usage(promptTokens: promptTokenTotal, completionTokens: completion,
                          cachedTokens: choices.reduce(0) { $0 + $1.cachedTokens })
        var actions: [Action] = [.record(.generationTokens(completion)), .record(.endToEndLatency(nanoseconds: now &- startedAt))]
        if options.stream {
            if options.includeUsage { actions.append(event(encoder.usageChunk(usage))) }
            actions += [.write(Data("data: [DONE]\n\n".utf8)), .endStream]
        } else {
            let results = choices.enumerated().map { i, c in
                ChoiceResult(index: i, echo: c.echo, text: c.decoder.text, logprobs: c.decoder.logprobs, finishReason: c.finishReason,
                             promptTokenIds: c.scoring.promptTokenIds, promptLogprobs: c.promptLogprobs)
            }
            actions.append(.respond(encoder.body(results, usage: usage)))
        }
        actions.append(.completed(usage))
        return actions
    }

    /// Frames a JSON object as one server-sent event.
    private func event(_ json: Data) -> Action {
        var data = Data("data: ".utf8)
        data.append(json)
        data.append(Data("\n\n".utf8))
        return .write(data)
    }
}
