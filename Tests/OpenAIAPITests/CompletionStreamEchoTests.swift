import Engine
import Foundation
import Testing
@testable import OpenAIAPI
@testable import Tokenization

/// `CompletionStream` with `echo` + `logprobs` (prompt logprobs) and `max_tokens: 0`, by hand: the body
/// lists the prompt's tokens first (the first with null logprob and alternatives), then the generated ones.
@Suite struct CompletionStreamEchoTests {
    @Test func promptTokensComeFirstWithANullHead() throws {
        let t = try CompletionStreamTests()
        let renderer = LogprobRenderer(tokenizer: t.tokenizer, topCount: 1)
        var m = CompletionStream(
            options: .init(stream: false, includeUsage: false, stops: [], wantsLogprobs: true),
            encoder: TextCompletionEncoder(identity: t.identity, logprobs: renderer), tokenizer: t.tokenizer,
            choices: [(3, "abc")], startedAt: 0, scoring: [.init(promptTokenIds: t.ids("abc"), scoreOnly: false)])
        _ = m.start()
        let b = t.ids("b")[0], c = t.ids("c")[0], x = t.ids("x")[0]
        _ = m.receive(.promptLogprobs([TokenLogprob(tokenId: b, logprob: -1, topAlternatives: [.init(tokenId: x, logprob: -0.5)])]), choice: 0, now: 1)
        _ = m.receive(.promptLogprobs([TokenLogprob(tokenId: c, logprob: -2, topAlternatives: [.init(tokenId: c, logprob: -2)])]), choice: 0, now: 2)
        _ = m.receive(.tokens(t.ids("d"), logprobs: [TokenLogprob(tokenId: t.ids("d")[0], logprob: -3, topAlternatives: [])]), choice: 0, now: 3)
        let end = m.receive(.finished(.length, promptTokens: 3, completionTokens: 1), choice: 0, now: 4)
        guard let respond = end.first(where: { if case .respond = $0 { return true } else { return false } }),
              case let .respond(body) = respond else { Issue.record("no body in \(end)"); return }
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let choice = try #require((object["choices"] as? [[String: Any]])?.first)
        #expect(choice["text"] as? String == "abcd")
        let logprobs = try #require(choice["logprobs"] as? [String: Any])
        #expect(logprobs["tokens"] as? [String] == ["a", "b", "c", "d"])
        let values = try #require(logprobs["token_logprobs"] as? [Any])
        #expect(values[0] is NSNull)
        #expect(values.dropFirst().compactMap { $0 as? Double } == [-1, -2, -3])
        let tops = try #require(logprobs["top_logprobs"] as? [Any])
        #expect(tops[0] is NSNull)
        #expect((tops[1] as? [String: Double]) == ["x": -0.5, "b": -1], "the alternatives plus the prompt token itself")
        #expect(logprobs["text_offset"] as? [Int] == [0, 1, 2, 3])
    }

    @Test func maxTokensZeroDropsWhatWasGeneratedAndEndsByLength() throws {
        let t = try CompletionStreamTests()
        var m = CompletionStream(
            options: .init(stream: false, includeUsage: false, stops: [], wantsLogprobs: true),
            encoder: TextCompletionEncoder(identity: t.identity, logprobs: LogprobRenderer(tokenizer: t.tokenizer, topCount: 0)),
            tokenizer: t.tokenizer, choices: [(2, "ab")], startedAt: 0, scoring: [.init(promptTokenIds: t.ids("ab"), scoreOnly: true)])
        _ = m.start()
        #expect(m.receive(.tokens(t.ids("z"), logprobs: nil), choice: 0, now: 1).isEmpty)
        let end = m.receive(.finished(.stop, promptTokens: 2, completionTokens: 1), choice: 0, now: 2)
        #expect(end.contains(.record(.requestFinished(.length))))
        #expect(end.last == .completed(Usage(promptTokens: 2, completionTokens: 0, cachedTokens: 0)))
    }
}
