import Foundation
import Llama
import Testing
@testable import Engine

/// The engine thread's failure path, with `FakeForwardModel`'s injected faults: a row of non-finite
/// logits ends its own sequence and no other, a forward pass that throws ends every sequence of its
/// batch, and in both cases the blocks come back and the engine serves the next request as usual.
@Suite struct EngineLoopFailureTests {
    /// Prompts that never start with `marker` (the fake model's faults key on it).
    static let marker: Int32 = 50

    static func makeEngine(poisonsRow: (@Sendable (FakeForwardModel.History) -> Bool)? = nil,
                           failsPass: (@Sendable (ForwardBatch) -> Bool)? = nil) throws -> InferenceEngine {
        let configuration = EngineConfiguration(maxSequenceCount: 16, maxBatchedTokens: 512, kvBlockSize: 4, kvCapacity: .blocks(128))
        return try InferenceEngine(model: FakeForwardModel(poisonsRow: poisonsRow, failsPass: failsPass), configuration: configuration)
    }

    static func healthyRequests() -> [GenerationRequest] {
        InferenceEngineTests.prompts().prefix(4).enumerated().map { index, prompt in
            GenerationRequest(id: "ok\(index)", promptTokenIds: prompt, maxTokens: 12, ignoresEndOfSequence: true)
        }
    }

    static func tokens(_ events: [GenerationEvent]) -> [Int32] {
        events.flatMap { event -> [Int32] in
            if case let .tokens(ids, _) = event { return ids }
            return []
        }
    }

    @Test func aNonFiniteRowEndsItsSequenceAndNoOther() throws {
        // The poisoned request's 4th output row (prompt of 5 + 3 fed-back tokens) gets a NaN.
        let poisoned = GenerationRequest(id: "bad", promptTokenIds: [Self.marker, 1, 2, 3, 4], maxTokens: 12, ignoresEndOfSequence: true)
        let engine = try Self.makeEngine(poisonsRow: { history in history.first?.token == Self.marker && history.count == 8 })
        defer { engine.shutdown() }
        let healthy = Self.healthyRequests()
        let all = healthy + [poisoned]
        let log = EventLog()
        // One submission: every request is in the first batch, and the poisoned row shares its pass
        // with the healthy requests' decode rows (they run 12 steps, it fails at step 4).
        try engine.submit(all) { index, event in log.append(all[index].id, event) }
        log.waitForFinished(count: all.count)

        let clean = try Self.makeEngine()
        defer { clean.shutdown() }
        let cleanResults = try clean.generate(healthy)
        for (request, cleanResult) in zip(healthy, cleanResults) {
            let events = log.events(for: request.id)
            let expected = FakeForwardModel.referenceGreedy(prompt: request.promptTokenIds, maxTokens: 12, stopTokens: [])
            #expect(Self.tokens(events) == expected, "\(request.id)")
            #expect(Self.tokens(events) == cleanResult.tokenIds, "\(request.id): same tokens as a run without the fault")
            #expect(events.last == .finished(.length, promptTokens: request.promptTokenIds.count, completionTokens: 12))
        }
        let bad = log.events(for: "bad")
        let before = FakeForwardModel.referenceGreedy(prompt: poisoned.promptTokenIds, maxTokens: 3, stopTokens: [])
        #expect(Self.tokens(bad) == before, "the tokens before the poisoned row are delivered")
        #expect(bad.last == .failed(.nonFiniteLogits(requestId: "bad", nonFiniteCount: 1, vocabSize: 64), promptTokens: 5, completionTokens: 3))
        #expect(bad.filter(\.isTerminal).count == 1)

        let stats = engine.stats()
        #expect(stats.kvBlocksUsed == 0)
        #expect(stats.runningCount == 0 && stats.waitingCount == 0)
        #expect(stats.requestsFailed == 1)
        #expect(stats.requestsFinished[.length] == healthy.count)
        #expect(stats.requestsFinished[.abort, default: 0] == 0, "a failure is not counted as an abort")

        let later = try engine.generate([GenerationRequest(id: "later", promptTokenIds: [9, 8, 7], maxTokens: 6, ignoresEndOfSequence: true)])
        #expect(later.first?.tokenIds == FakeForwardModel.referenceGreedy(prompt: [9, 8, 7], maxTokens: 6, stopTokens: []))
        #expect(later.first?.failure == nil)
        #expect(engine.stats().kvBlocksUsed == 0)
    }

    @Test func aPassThatThrowsEndsEverySequenceOfItsBatchAndTheEngineGoesOn() throws {
        // Throws for a pass holding a prompt that starts with the marker: the first pass, the three
        // prompts' prefill (a generated marker token, at a later position, is harmless).
        let engine = try Self.makeEngine(failsPass: { batch in
            zip(batch.inputs, batch.positions).contains { input, position in
                if case .token(Self.marker) = input, position == 0 { return true }
                return false
            }
        })
        defer { engine.shutdown() }
        let doomed = [
            GenerationRequest(id: "a", promptTokenIds: [1, 2, 3], maxTokens: 8, ignoresEndOfSequence: true),
            GenerationRequest(id: "b", promptTokenIds: [4, 5, 6, 7, 8, 9], maxTokens: 8, ignoresEndOfSequence: true),
            GenerationRequest(id: "c", promptTokenIds: [Self.marker, 11], maxTokens: 8, ignoresEndOfSequence: true),
        ]
        let log = EventLog()
        try engine.submit(doomed) { index, event in log.append(doomed[index].id, event) }
        log.waitForFinished(count: doomed.count)
        for request in doomed {
            #expect(log.events(for: request.id) == [.failed(
                .forwardFailed(requestId: request.id, reason: "injected fault"),
                promptTokens: request.promptTokenIds.count, completionTokens: 0)])
        }
        let stats = engine.stats()
        #expect(stats.kvBlocksUsed == 0)
        #expect(stats.runningCount == 0 && stats.waitingCount == 0)
        #expect(stats.requestsFailed == doomed.count)

        let healthy = Self.healthyRequests()
        let results = try engine.generate(healthy)
        for (request, result) in zip(healthy, results) {
            #expect(result.tokenIds == FakeForwardModel.referenceGreedy(prompt: request.promptTokenIds, maxTokens: 12, stopTokens: []))
            #expect(result.finishReason == .length && result.failure == nil)
        }
        #expect(engine.stats().kvBlocksUsed == 0)
        #expect(engine.stats().requestsFailed == doomed.count)
    }

    @Test func aNonFinitePromptLogprobRowFailsTheRequestBeforeAnyLogprobIsSent() throws {
        // The prompt's 3rd row (history of 3) is poisoned; a request without prompt logprobs never reads it.
        let engine = try Self.makeEngine(poisonsRow: { history in history.first?.token == Self.marker && history.count == 3 })
        defer { engine.shutdown() }
        var scoring = GenerationRequest(id: "score", promptTokenIds: [Self.marker, 1, 2, 3, 4], maxTokens: 2, ignoresEndOfSequence: true)
        scoring.promptLogprobs = 0
        let results = try engine.generate([scoring])
        #expect(results.first?.failure == .nonFiniteLogits(requestId: "score", nonFiniteCount: 1, vocabSize: 64))
        #expect(results.first?.promptLogprobs == nil)
        #expect(results.first?.tokenIds == [])
        #expect(engine.stats().kvBlocksUsed == 0)
    }
}
