import Engine
import Foundation
import Testing
@testable import OpenAIAPI
@testable import Tokenization

/// `CompletionStream` driven by hand, without sockets or an engine: a byte-level vocabulary (token id =
/// byte value) so that token ids spell the text, fixed instants, and the actions checked one by one.
@Suite struct CompletionStreamTests {
    let tokenizer: Tokenizer
    let identity = ResponseIdentity(id: "cmpl-1", created: 1_700_000_000, model: "m")

    init() throws {
        let bytes = ByteLevelAlphabet.scalarForByte.map { String(Character($0)) }
        tokenizer = try Tokenizer(tokens: bytes, merges: [], tokenTypes: [], preTokenizer: .gpt2)
    }

    func ids(_ text: String) -> [Int32] { text.utf8.map { Int32($0) } }

    func machine(stream: Bool, chat: Bool = false, stops: [String] = [], logprobs: Int? = nil, includeUsage: Bool = false,
                 choices: [(promptTokens: Int, echo: String)] = [(3, "")]) -> CompletionStream {
        let renderer = LogprobRenderer(tokenizer: tokenizer, topCount: logprobs)
        let encoder: any CompletionEncoder = chat
            ? ChatCompletionEncoder(identity: identity, logprobs: renderer)
            : TextCompletionEncoder(identity: identity, logprobs: renderer)
        return CompletionStream(
            options: .init(stream: stream, includeUsage: includeUsage, stops: stops, wantsLogprobs: logprobs != nil),
            encoder: encoder, tokenizer: tokenizer, choices: choices, startedAt: 1_000)
    }

    /// The JSON objects of the `data:` events among `actions` (`[DONE]` left out).
    func events(_ actions: [CompletionStream.Action]) throws -> [[String: Any]] {
        try actions.compactMap { action -> [String: Any]? in
            guard case let .write(data) = action else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            #expect(text.hasPrefix("data: ") && text.hasSuffix("\n\n"))
            let json = text.dropFirst(6).dropLast(2)
            guard json != "[DONE]" else { return nil }
            return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        }
    }

    func firstChoice(_ object: [String: Any]) -> [String: Any]? {
        (object["choices"] as? [[String: Any]])?.first
    }

    @Test func wholeTextCompletionAfterTheLastChoiceEnds() throws {
        var m = machine(stream: false)
        #expect(m.start() == [.record(.promptTokens(3))])
        let first = m.receive(.tokens(ids("he"), logprobs: nil), choice: 0, now: 1_500)
        #expect(first == [.record(.timeToFirstToken(nanoseconds: 500))])
        let second = m.receive(.tokens(ids("llo"), logprobs: nil), choice: 0, now: 2_100)
        #expect(second == [.record(.interTokenLatency(nanoseconds: 200))])
        let end = m.receive(.finished(.length, promptTokens: 3, completionTokens: 5, cachedPromptTokens: 2), choice: 0, now: 3_000)
        let usage = Usage(promptTokens: 3, completionTokens: 5, cachedTokens: 2)
        #expect(end.first == .record(.requestFinished(.length)))
        #expect(end.contains(.record(.generationTokens(5))))
        #expect(end.contains(.record(.endToEndLatency(nanoseconds: 2_000))))
        #expect(end.last == .completed(usage))
        guard case let .respond(body) = end[end.count - 2] else { Issue.record("no response body in \(end)"); return }
        let parsed = try JSONSerialization.jsonObject(with: body)
        let object = try #require(parsed as? [String: Any])
        #expect(object["object"] as? String == "text_completion")
        #expect(object["id"] as? String == "cmpl-1")
        let choice = try #require(firstChoice(object))
        #expect(choice["text"] as? String == "hello")
        #expect(choice["finish_reason"] as? String == "length")
        #expect(m.isDone)
        #expect(m.receive(.tokens(ids("x"), logprobs: nil), choice: 0, now: 4_000) == [])
        #expect(m.clientClosed() == [])
    }

    @Test func streamedChatNamesTheRoleOnceAndCutsAtTheStopString() throws {
        var m = machine(stream: true, chat: true, stops: ["lo"], includeUsage: true)
        #expect(m.start() == [.startStream, .record(.promptTokens(3))])
        let a = m.receive(.tokens(ids("hel"), logprobs: nil), choice: 0, now: 2_000)
        let b = m.receive(.tokens(ids("lo!"), logprobs: nil), choice: 0, now: 3_000)
        #expect(b.contains(.cancel(choice: 0, reason: .stop)))
        #expect(b.contains(.record(.requestFinished(.stop))))
        #expect(b.suffix(3) == [.write(Data("data: [DONE]\n\n".utf8)), .endStream, .completed(Usage(promptTokens: 3, completionTokens: 5, cachedTokens: 0))])
        let chunks = try events(a + b)
        let deltas = chunks.compactMap { firstChoice($0)?["delta"] as? [String: Any] }
        #expect(deltas.first?["role"] as? String == "assistant")
        #expect(deltas.dropFirst().allSatisfy { $0["role"] == nil })
        #expect(deltas.compactMap { $0["content"] as? String }.joined() == "hel")
        #expect(chunks.compactMap { firstChoice($0)?["finish_reason"] as? String } == ["stop"])
        #expect(chunks.last?["usage"] as? [String: Any] != nil && (chunks.last?["choices"] as? [Any])?.isEmpty == true)
        #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        // The engine's `.finished(.abort)` for the cancelled choice changes nothing.
        #expect(m.receive(.finished(.abort, promptTokens: 3, completionTokens: 6), choice: 0, now: 4_000) == [])
    }

    @Test func echoedPromptAndLogprobOffsetsInTheStream() throws {
        var m = machine(stream: true, logprobs: 0, choices: [(2, "hi")])
        let start = m.start()
        #expect(try events(start).compactMap { firstChoice($0)?["text"] as? String } == ["hi"])
        let logprob = TokenLogprob(tokenId: Int32(UInt8(ascii: "o")), logprob: -0.5, topAlternatives: [])
        let chunks = try events(m.receive(.tokens(ids("o"), logprobs: [logprob]), choice: 0, now: 2_000))
        let chunk = try #require(chunks.first)
        let logprobs = try #require(firstChoice(chunk)?["logprobs"] as? [String: Any])
        #expect(logprobs["tokens"] as? [String] == ["o"])
        #expect(logprobs["text_offset"] as? [Int] == [2])
        #expect(logprobs["token_logprobs"] as? [Double] == [-0.5])
    }

    @Test func aClientThatLeavesCancelsEveryChoiceOnce() {
        var m = machine(stream: true, choices: [(3, ""), (3, "")])
        _ = m.start()
        #expect(m.clientClosed() == [.record(.clientDisconnect), .cancelAll])
        _ = m.receive(.finished(.abort, promptTokens: 3, completionTokens: 0), choice: 0, now: 2_000)
        let last = m.receive(.finished(.abort, promptTokens: 3, completionTokens: 1), choice: 1, now: 2_000)
        // Aborted choices send no finish chunk, but the stream still ends properly.
        #expect(last.contains(.endStream))
        #expect(!last.contains { if case let .write(d) = $0 { return d != Data("data: [DONE]\n\n".utf8) } else { return false } })
        #expect(m.clientClosed() == [])
    }

    @Test func aFailedSubmissionEndsTheStreamWithTheError() throws {
        var m = machine(stream: true)
        _ = m.start()
        let actions = m.submitFailed(.overloaded(retryAfterSeconds: 1))
        #expect(actions.last == .endStream)
        let frames = try events(actions)
        let error = try #require(frames.first?["error"] as? [String: Any])
        #expect(error["message"] is String)
        #expect(m.isDone)
        var whole = machine(stream: false)
        #expect(whole.submitFailed(.overloaded(retryAfterSeconds: 1)) == [])
    }

    @Test func anEngineFailureMidStreamSendsAnErrorEventThenDone() throws {
        var m = machine(stream: true, choices: [(3, ""), (3, "")])
        _ = m.start()
        let before = m.receive(.tokens(ids("ok"), logprobs: nil), choice: 1, now: 2_000)
        #expect(try events(before).count == 1)
        let failure = EngineError.nonFiniteLogits(requestId: "seq-1", nonFiniteCount: 2, vocabSize: 256)
        let actions = m.receive(.failed(failure, promptTokens: 3, completionTokens: 1), choice: 0, now: 3_000)
        // The other choice is stopped; the stream ends with the error event, then [DONE].
        #expect(actions.first == .cancelAll)
        #expect(actions.suffix(3) == [.write(Data("data: [DONE]\n\n".utf8)), .endStream, .completed(Usage(promptTokens: 6, completionTokens: 1, cachedTokens: 0))])
        let frames = try events(actions)
        #expect(frames.count == 1, "no finish chunk: the error is the choice's last word")
        let error = try #require(frames.first?["error"] as? [String: Any])
        #expect(error["type"] as? String == "server_error")
        #expect(error["code"] as? String == "internal_error")
        #expect((error["message"] as? String)?.contains("non-finite logits") == true)
        #expect(frames.first?.keys.sorted() == ["error"])
        #expect(m.isDone)
        // What the other choice hears afterwards goes nowhere.
        #expect(m.receive(.tokens(ids("late"), logprobs: nil), choice: 1, now: 4_000) == [])
        #expect(m.receive(.finished(.abort, promptTokens: 3, completionTokens: 5), choice: 1, now: 4_000) == [])
        #expect(m.clientClosed() == [])
    }

    @Test func anEngineFailureBeforeTheResponseIsA500() throws {
        var m = machine(stream: false)
        _ = m.start()
        _ = m.receive(.tokens(ids("par"), logprobs: nil), choice: 0, now: 2_000)
        let failure = EngineError.forwardFailed(requestId: "seq-1", reason: "injected")
        let actions = m.receive(.failed(failure, promptTokens: 3, completionTokens: 3), choice: 0, now: 3_000)
        #expect(actions == [.cancelAll, .respondError(.internalError(failure.description))])
        #expect(APIError.internalError(failure.description).status == 500)
        #expect(m.isDone)
    }
}
