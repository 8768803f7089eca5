import Engine
import Foundation
import Hamburger
import Synchronization
import Testing
import TestSupport

/// HAMburger in the engine: confidence 1.0 is autoregressive, KV holds prompt + macro steps, modes mix
/// in one batch, cuts inside a group, seeded sampling, stats, and refusals.
@Suite(.serialized) struct HamburgerEngineTests {
    /// A few fixture prompts, short outputs (debug builds are slow).
    static let promptCount = 3
    static let maxTokens = 16

    @Test func confidenceOneIsAutoregressiveGreedy() throws {
        let (fixture, runtime) = try HamburgerTestbed.anyAdapter()
        let engine = try HamburgerTestbed.engine(runtime)
        defer { engine.shutdown() }
        let cases = Array(fixture.cases.prefix(Self.promptCount))
        let ar = try engine.generate(cases.enumerated().map {
            GenerationRequest(id: "a\($0.offset)", promptTokenIds: $0.element.prompt_ids, maxTokens: Self.maxTokens)
        })
        let hb = try engine.generate(cases.enumerated().map {
            HamburgerTestbed.request("h\($0.offset)", $0.element, maxTokens: Self.maxTokens, confidence: 1.0)
        })
        for (index, (a, h)) in zip(ar, hb).enumerated() {
            #expect(h.tokenIds == a.tokenIds, "case \(index): confidence 1.0 differs from autoregressive")
            #expect(h.groupSizes.allSatisfy { $0 == 1 }, "case \(index): groups \(h.groupSizes)")
            let reference = Array(cases[index].base_tokens.prefix(Self.maxTokens))
            #expect(HamburgerTestbed.tokensWithStop(a, stopToken: fixture.eos_token_ids[0]) == reference, "case \(index): autoregressive differs from the Python reference")
        }
    }

    @Test func kvHoldsPromptPlusMacroSteps() throws {
        let (fixture, runtime) = try HamburgerTestbed.anyAdapter()
        guard let testCase = fixture.cases.first(where: { $0.group_sizes.contains { $0 > 1 } }) else {
            Issue.record("the fixture has no multi-token group")
            return
        }
        let reports = Mutex<[IterationReport]>([])
        let engine = try HamburgerTestbed.engine(runtime, observer: { report in reports.withLock { $0.append(report) } })
        defer { engine.shutdown() }
        let result = try engine.generate([HamburgerTestbed.request("kv", testCase, maxTokens: fixture.max_new_tokens)])[0]
        let seen = reports.withLock { $0 }
        let prompt = testCase.prompt_ids.count, steps = result.macroSteps
        #expect(steps == testCase.group_sizes.count)
        #expect(seen.count == steps, "one iteration per macro step")
        // Iteration t writes the prompt (t = 1) or one entry for the previous group; the last one frees.
        for (t, report) in seen.enumerated().dropLast() {
            #expect(report.kvEntriesUsed == prompt + t, "after macro step \(t + 1)")
        }
        let written = seen.reduce(0) { $0 + $1.rowCount }
        #expect(written == prompt + steps - 1)
        #expect(written == testCase.kv_entries)
        #expect(written < prompt + result.completionTokens - 1, "fewer entries than autoregressive")
    }

    @Test func mixedBatchGivesEachRequestItsSoloOutput() throws {
        let (fixture, runtime) = try HamburgerTestbed.anyAdapter()
        let engine = try HamburgerTestbed.engine(runtime)
        defer { engine.shutdown() }
        let cases = Array(fixture.cases.prefix(2))
        let requests = cases.enumerated().flatMap { index, testCase in [
            HamburgerTestbed.request("h\(index)", testCase, maxTokens: Self.maxTokens),
            GenerationRequest(id: "a\(index)", promptTokenIds: testCase.prompt_ids, maxTokens: Self.maxTokens),
            GenerationRequest(id: "s\(index)", promptTokenIds: testCase.prompt_ids,
                              sampling: SamplingParameters(temperature: 0.8, topP: 0.95, seed: UInt64(index)), maxTokens: Self.maxTokens,
                              decoding: .hamburger(confidence: 0.5)),
        ] }
        let alone = try requests.flatMap { try engine.generate([$0]) }
        let together = try engine.generate(requests)
        for (a, b) in zip(alone, together) {
            #expect(a.tokenIds == b.tokenIds, "\(a.id): batched output differs from its solo output")
            #expect(a.groupSizes == b.groupSizes, "\(a.id): batched groups differ")
        }
        let sampled = together.filter { $0.id.hasPrefix("s") }
        #expect(sampled.allSatisfy { $0.completionTokens > 0 })
    }

    /// Chat prompts share the template's system prompt, so the second round finds their first blocks
    /// in the prefix cache: greedy output is identical with and without caching, in both modes, alone
    /// and in a batch.
    @Test func prefixCachingChangesNoOutputInEitherMode() throws {
        let (fixture, adapter) = try HamburgerTestbed.anyAdapter()
        let cases = Array(fixture.cases.prefix(3))
        let requests = cases.enumerated().flatMap { index, testCase in [
            HamburgerTestbed.request("h\(index)", testCase, maxTokens: Self.maxTokens),
            GenerationRequest(id: "a\(index)", promptTokenIds: testCase.prompt_ids, maxTokens: Self.maxTokens),
        ] }
        let plain = try HamburgerTestbed.engine(adapter, prefixCaching: false)
        let expected = try plain.generate(requests)
        plain.shutdown()
        let cached = try HamburgerTestbed.engine(adapter, blockSize: 4)
        defer { cached.shutdown() }
        let alone = try cached.generate([requests[0]]) + cached.generate([requests[1]])
        let together = try cached.generate(requests)
        for (a, b) in zip(alone + together, Array(expected.prefix(2)) + expected) {
            #expect(a.tokenIds == b.tokenIds, "\(a.id): output with prefix caching differs")
            #expect(a.groupSizes == b.groupSizes, "\(a.id): groups with prefix caching differ")
        }
        #expect(alone[1].cachedPromptTokens > 0, "the autoregressive run of the same prompt reuses the HAMburger run's prompt blocks")
        #expect(together.allSatisfy { $0.cachedPromptTokens > 0 })
        #expect(expected.allSatisfy { $0.cachedPromptTokens == 0 })
    }

    @Test func maxTokensAndStopTokensCutInsideAGroup() throws {
        let (fixture, runtime) = try HamburgerTestbed.anyAdapter()
        let engine = try HamburgerTestbed.engine(runtime)
        defer { engine.shutdown() }
        // The first group of two tokens or more in the fixture, and the tokens before it.
        guard let (testCase, group) = fixture.cases.lazy.compactMap({ c in c.group_sizes.firstIndex { $0 >= 2 }.map { (c, $0) } }).first else {
            Issue.record("the fixture has no group of two tokens or more")
            return
        }
        let before = testCase.group_sizes[..<group].reduce(0, +)

        // max_tokens ending on the group's first token cuts the group after it.
        let short = try engine.generate([HamburgerTestbed.request("m", testCase, maxTokens: before + 1)])[0]
        #expect(short.tokenIds == Array(testCase.tokens[...before]))
        #expect(short.groupSizes == Array(testCase.group_sizes[..<group]) + [1])
        #expect(short.finishReason == .length)
        #expect(short.completionTokens == before + 1)

        // A stop token at the group's second token: the tokens before it are emitted, the stop token
        // counted, nothing after it (the rest of the group is dropped).
        let stop = testCase.tokens[before + 1]
        guard !testCase.tokens[...before].contains(stop) else { return }
        var request = HamburgerTestbed.request("t", testCase, maxTokens: fixture.max_new_tokens)
        request.stopTokenIds = [stop]
        let cut = try engine.generate([request])[0]
        #expect(cut.tokenIds == Array(testCase.tokens[...before]))
        #expect(cut.finishReason == .stop)
        #expect(cut.completionTokens == before + 2)
        #expect(cut.groupSizes == Array(testCase.group_sizes[..<group]) + [2])
    }

    @Test func eventsComeOnePerGroup() async throws {
        let (fixture, runtime) = try HamburgerTestbed.anyAdapter()
        let engine = try HamburgerTestbed.engine(runtime)
        defer { engine.shutdown() }
        guard let testCase = fixture.cases.first(where: { $0.group_sizes.contains { $0 > 1 } }) else { return }
        let stream = try engine.submit(HamburgerTestbed.request("e", testCase, maxTokens: fixture.max_new_tokens))
        var sizes: [Int] = []
        var completion = 0
        for await event in stream {
            switch event {
            case let .tokens(ids, _): sizes.append(ids.count)
            case let .finished(_, _, completionTokens, _): completion = completionTokens
            case let .failed(error, _, _): Issue.record("the engine failed the request: \(error)")
            case .promptLogprobs: Issue.record("no prompt logprobs were asked for")
            }
        }
        // The final group's stop token is counted but not emitted.
        var expected = testCase.group_sizes
        if testCase.tokens.last.map(fixture.eos_token_ids.contains) == true {
            expected[expected.count - 1] -= 1
            if expected.last == 0 { expected.removeLast() }
        }
        #expect(sizes == expected)
        #expect(completion == testCase.tokens.count)
        let stats = engine.stats()
        let K = runtime.maxSteps
        #expect(stats.hamburgerMacroStepsTotal == testCase.group_sizes.count)
        #expect(stats.hamburgerDraftTokensTotal == testCase.group_sizes.count * (K - 1))
        #expect(stats.hamburgerAcceptedTokensTotal == testCase.tokens.count - testCase.group_sizes.count)
        #expect(stats.hamburgerAcceptedTokensPerPosition.reduce(0, +) == stats.hamburgerAcceptedTokensTotal)
        #expect(stats.hamburgerTokensPerStep.count == testCase.group_sizes.count)
    }

    @Test func refusalsWithoutAdapterOrWithABadConfidence() throws {
        let (fixture, runtime) = try HamburgerTestbed.anyAdapter()
        let plain = try HamburgerTestbed.engine(nil)
        defer { plain.shutdown() }
        let request = HamburgerTestbed.request("x", fixture.cases[0], maxTokens: 4)
        #expect(throws: EngineError.decodingModeUnavailable(requestId: "x", mode: "hamburger")) { try plain.validate(request) }
        let engine = try HamburgerTestbed.engine(runtime)
        defer { engine.shutdown() }
        #expect(throws: EngineError.self) { try engine.validate(HamburgerTestbed.request("y", fixture.cases[0], maxTokens: 4, confidence: 0)) }
        #expect(throws: EngineError.self) { try engine.validate(HamburgerTestbed.request("z", fixture.cases[0], maxTokens: 4, confidence: 1.5)) }
        try engine.validate(request)
    }
}
