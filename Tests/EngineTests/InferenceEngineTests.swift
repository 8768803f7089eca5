import Foundation
import KVCache
import Synchronization
import Testing
@testable import Engine

/// The engine thread end to end with `FakeForwardModel` (deterministic, reads and writes real pages).
@Suite struct InferenceEngineTests {
    static func makeEngine(
        maxBatchedTokens: Int = 512, blockSize: Int = 4, blockCount: Int = 256, maxSequences: Int = 64,
        recorder: ForwardRecorder? = nil, observer: (@Sendable (IterationReport) -> Void)? = nil, prefixCaching: Bool = true
    ) throws -> InferenceEngine {
        var configuration = EngineConfiguration(
            maxSequenceCount: maxSequences, maxBatchedTokens: maxBatchedTokens, kvBlockSize: blockSize,
            kvCapacity: .blocks(blockCount))
        configuration.iterationObserver = observer
        configuration.enablePrefixCaching = prefixCaching
        return try InferenceEngine(model: FakeForwardModel(recorder: recorder), configuration: configuration)
    }

    /// Sixteen prompts of lengths 1 ... 31.
    static func prompts() -> [[Int32]] {
        (0 ..< 16).map { (index: Int) -> [Int32] in
            let length = 1 + 2 * index
            return (0 ..< length).map { (position: Int) -> Int32 in Int32((position * 7 + index * 3) % 60) }
        }
    }

    static func greedyRequests(maxTokens: Int = 12, ignoresEOS: Bool = true) -> [GenerationRequest] {
        prompts().enumerated().map { index, prompt in
            GenerationRequest(id: "p\(index)", promptTokenIds: prompt, maxTokens: maxTokens, ignoresEndOfSequence: ignoresEOS)
        }
    }

    @Test func greedyOutputMatchesTheReferenceComputedWithoutACache() throws {
        let engine = try Self.makeEngine()
        defer { engine.shutdown() }
        let requests = Self.greedyRequests(maxTokens: 16, ignoresEOS: false)
        let results = try engine.generate(requests)
        var stoppedEarly = 0
        for (request, result) in zip(requests, results) {
            let expected = FakeForwardModel.referenceGreedy(prompt: request.promptTokenIds, maxTokens: 16)
            #expect(result.tokenIds == expected, "\(request.id)")
            #expect(result.promptTokens == request.promptTokenIds.count)
            if result.finishReason == .stop {
                stoppedEarly += 1
                #expect(result.completionTokens == expected.count + 1, "the EOS token is counted, not emitted")
            } else {
                #expect(result.finishReason == .length)
                #expect(result.completionTokens == 16)
            }
        }
        #expect(stoppedEarly > 0, "the fake model's EOS (63) shows up in some outputs")
        let stats = engine.stats()
        #expect(stats.kvBlocksUsed == 0)
        #expect(stats.runningCount == 0 && stats.waitingCount == 0)
        #expect(stats.promptTokensTotal == requests.reduce(0) { $0 + $1.promptTokenIds.count })
        #expect(stats.generationTokensTotal == results.reduce(0) { $0 + $1.completionTokens })
        #expect(stats.requestsFinished[.stop, default: 0] == stoppedEarly)
    }

    @Test func batchInvarianceAloneVersusTogetherWithTinyBudget() throws {
        let requests = Self.greedyRequests()
        var alone: [GenerationResult] = []
        let soloEngine = try Self.makeEngine()
        for request in requests { alone += try soloEngine.generate([request]) }
        soloEngine.shutdown()

        let recorder = ForwardRecorder()
        let batched = try Self.makeEngine(maxBatchedTokens: 5, recorder: recorder)
        let together = try batched.generate(requests)
        let stats = batched.stats()
        batched.shutdown()

        #expect(together == alone)
        #expect(recorder.rowCounts.allSatisfy { $0 <= 5 })
        #expect(recorder.rowCounts.contains(5), "the budget was used to the full")
        #expect(recorder.violations.isEmpty, "\(recorder.violations)")
        #expect(stats.kvBlocksUsed == 0)
        #expect(stats.kvBlocksUsedPeak > 0)
    }

    /// Prompts that share leading blocks (a common "system prompt" of 13 tokens, then each its own
    /// tail), alone and in batches, twice over: identical greedy output with and without prefix caching;
    /// the second round hits the cache and reports the cached tokens.
    @Test func prefixCachingChangesNoOutput() throws {
        let system: [Int32] = (0 ..< 13).map { Int32(($0 * 5) % 60) }
        let requests = Self.prompts().enumerated().map { index, tail in
            GenerationRequest(id: "s\(index)", promptTokenIds: system + tail, maxTokens: 8, ignoresEndOfSequence: true)
        }
        let plain = try Self.makeEngine(prefixCaching: false)
        let expected = try plain.generate(requests)
        plain.shutdown()
        #expect(expected.allSatisfy { $0.cachedPromptTokens == 0 })

        let recorder = ForwardRecorder()
        let cached = try Self.makeEngine(maxBatchedTokens: 24, recorder: recorder)
        var alone: [GenerationResult] = []
        for request in requests.prefix(4) { alone += try cached.generate([request]) }
        let first = try cached.generate(requests)
        let second = try cached.generate(requests)
        let stats = cached.stats()
        cached.shutdown()
        func strip(_ results: [GenerationResult]) -> [[Int32]] { results.map(\.tokenIds) }
        #expect(strip(alone) == strip(Array(expected.prefix(4))))
        #expect(strip(first) == strip(expected))
        #expect(strip(second) == strip(expected))
        #expect(alone[1].cachedPromptTokens == 12, "the 3 full blocks of the shared 13 tokens (block size 4)")
        #expect(second.allSatisfy { $0.cachedPromptTokens >= 12 })
        #expect(stats.prefixCacheHitsTotal > 0 && stats.prefixCacheQueriesTotal >= stats.prefixCacheHitsTotal)
        #expect(stats.kvBlocksUsed == 0, "kept blocks are not in use")
        #expect(recorder.violations.isEmpty, "\(recorder.violations)")
    }

    @Test func preemptionWithATinyCacheGivesTheSameOutputs() throws {
        let requests = Self.greedyRequests()
        let roomy = try Self.makeEngine()
        let expected = try roomy.generate(requests)
        roomy.shutdown()

        // 12 blocks of 4 entries: the longest sequence (31 + 12 - 1 = 42 entries) fits alone, not 16.
        let recorder = ForwardRecorder()
        let tight = try Self.makeEngine(maxBatchedTokens: 16, blockSize: 4, blockCount: 12, recorder: recorder)
        let results = try tight.generate(requests)
        let stats = tight.stats()
        tight.shutdown()

        #expect(results == expected)
        #expect(stats.preemptionsTotal > 0)
        #expect(stats.kvBlocksUsed == 0, "the allocator is fully free at the end")
        #expect(stats.kvBlocksUsedPeak <= 12)
        #expect(recorder.violations.isEmpty, "\(recorder.violations)")
    }

    @Test func seededSamplingIsReproducibleInAnyCompany() throws {
        let sampling = SamplingParameters(temperature: 0.9, topK: 20, topP: 0.95, presencePenalty: 0.3, seed: 42)
        let probe = GenerationRequest(id: "probe", promptTokenIds: [5, 9, 13], sampling: sampling, maxTokens: 12, ignoresEndOfSequence: true)
        let aloneEngine = try Self.makeEngine()
        let alone = try aloneEngine.generate([probe])
        aloneEngine.shutdown()

        var company = Self.greedyRequests()
        for index in company.indices { company[index].sampling = SamplingParameters(temperature: 1, seed: UInt64(index)) }
        let crowded = try Self.makeEngine(maxBatchedTokens: 7)
        let results = try crowded.generate(company + [probe])
        crowded.shutdown()
        #expect(results.last == alone.first)
        #expect(alone.first?.tokenIds.count == 12)
    }

    @Test func cancellationAbortsAndFreesEveryBlock() throws {
        let engine = try Self.makeEngine(maxBatchedTokens: 8)
        defer { engine.shutdown() }
        let finished = EventLog()
        for index in 0 ..< 4 {
            let request = GenerationRequest(id: "c\(index)", promptTokenIds: [1, 2, 3], maxTokens: 400, ignoresEndOfSequence: true)
            try engine.submit(request) { finished.append(request.id, $0) }
        }
        finished.waitForTokens(id: "c0", count: 3)
        for index in 0 ..< 3 { engine.cancel("c\(index)") }
        engine.cancel("c3", reason: .stop) // a stop string found by the caller
        finished.waitForFinished(count: 4)
        if case let .finished(reason, _, _, _)? = finished.events(for: "c3").last {
            #expect(reason == .stop)
        } else {
            Issue.record("c3 did not finish")
        }
        for index in 0 ..< 3 {
            guard case let .finished(reason, promptTokens, completion, _)? = finished.events(for: "c\(index)").last else {
                Issue.record("c\(index) did not finish")
                continue
            }
            #expect(reason == .abort)
            #expect(promptTokens == 3)
            #expect(completion < 400)
        }
        // Stats are published after the iteration that handled the cancellations.
        let stats = engine.stats()
        #expect(stats.kvBlocksUsed == 0)
        #expect(stats.requestsFinished[.abort] == 3)
        #expect(stats.requestsFinished[.stop] == 1)
        // The ids may be reused once finished.
        let again = try engine.generate([GenerationRequest(id: "c0", promptTokenIds: [1], maxTokens: 2, ignoresEndOfSequence: true)])
        #expect(again.first?.finishReason == .length)
    }

    @Test func stopTokensEndTheRequest() throws {
        let prompt: [Int32] = [4, 8, 15, 16, 23, 42]
        let free = FakeForwardModel.referenceGreedy(prompt: prompt, maxTokens: 10, stopTokens: [])
        let engine = try Self.makeEngine()
        defer { engine.shutdown() }
        let stopAt = free[3]
        let expectedCut = Array(free.prefix { $0 != stopAt })
        let result = try engine.generate([GenerationRequest(
            id: "s", promptTokenIds: prompt, maxTokens: 10, stopTokenIds: [stopAt], ignoresEndOfSequence: true)])
        #expect(result.first?.tokenIds == expectedCut)
        #expect(result.first?.finishReason == .stop)
        #expect(result.first?.completionTokens == expectedCut.count + 1)
    }

    @Test func logprobsComeWithEveryToken() throws {
        let engine = try Self.makeEngine()
        defer { engine.shutdown() }
        let result = try engine.generate([GenerationRequest(
            id: "l", promptTokenIds: [3, 1, 4], maxTokens: 5, ignoresEndOfSequence: true, logprobs: 2)])
        let first = try #require(result.first)
        let logprobs = try #require(first.logprobs)
        #expect(logprobs.map(\.tokenId) == first.tokenIds)
        for logprob in logprobs {
            #expect(logprob.topAlternatives.count == 2)
            #expect(logprob.topAlternatives.first?.tokenId == logprob.tokenId, "greedy picks the most likely token")
            #expect(logprob.logprob <= 0)
        }
    }

    @Test func submitRejectsBadRequestsWithClearErrors() throws {
        let engine = try Self.makeEngine()
        defer { engine.shutdown() }
        // max_model_len defaults to the fake's context length of 512.
        let tooLong = GenerationRequest(id: "x", promptTokenIds: Array(repeating: 1, count: 500), maxTokens: 20)
        let error = #expect(throws: EngineError.self) { try engine.submit(tooLong) { _ in } }
        #expect(error == .exceedsMaxModelLength(requestId: "x", promptTokens: 500, maxTokens: 20, maxModelLength: 512))
        #expect(error?.description.contains("max_model_len 512") == true)
        #expect(throws: EngineError.decodingModeUnavailable(requestId: "h", mode: "hamburger")) {
            try engine.submit(GenerationRequest(id: "h", promptTokenIds: [1], maxTokens: 4, decoding: .hamburger(confidence: 0.9))) { _ in }
        }
        #expect(throws: EngineError.tokenOutOfRange(requestId: "t", tokenId: 64, vocabSize: 64)) {
            try engine.submit(GenerationRequest(id: "t", promptTokenIds: [1, 64], maxTokens: 4)) { _ in }
        }
        #expect(throws: EngineError.invalidLogprobs(requestId: "g", logprobs: 6, maximum: GenerationRequest.maxLogprobs)) {
            try engine.submit(GenerationRequest(id: "g", promptTokenIds: [1], maxTokens: 4, logprobs: 6)) { _ in }
        }
        #expect(throws: EngineError.exceedsKVCapacity(requestId: "k", entriesNeeded: 1_100, entryCapacity: 1_024)) {
            let bigModel = FakeForwardModel(contextLength: 4_096)
            let small = try InferenceEngine(model: bigModel, configuration: EngineConfiguration(kvBlockSize: 4, kvCapacity: .blocks(256)))
            defer { small.shutdown() }
            try small.submit(GenerationRequest(id: "k", promptTokenIds: Array(repeating: 1, count: 1_000), maxTokens: 101)) { _ in }
        }
        try engine.submit(GenerationRequest(id: "d", promptTokenIds: [1], maxTokens: 300, ignoresEndOfSequence: true)) { _ in }
        #expect(throws: EngineError.duplicateRequestId("d")) {
            try engine.submit(GenerationRequest(id: "d", promptTokenIds: [1], maxTokens: 3)) { _ in }
        }
        engine.cancel("d")
    }

    /// The engine owns the waiting-queue bound: a batch that would pass it is refused whole (nothing
    /// queued, so its ids stay free), one that fits runs every request to its end.
    @Test func theWaitingQueueBoundRefusesAWholeBatch() throws {
        var configuration = EngineConfiguration(kvBlockSize: 4, kvCapacity: .blocks(256))
        configuration.maxWaitingRequests = 2
        let engine = try InferenceEngine(model: FakeForwardModel(), configuration: configuration)
        defer { engine.shutdown() }
        let requests = ["a", "b", "c"].map { GenerationRequest(id: $0, promptTokenIds: [1, 2], maxTokens: 3, ignoresEndOfSequence: true) }
        #expect(throws: EngineError.overloaded(waitingCount: 0, limit: 2)) { try engine.submit(requests) { _, _ in } }
        let finished = DispatchSemaphore(value: 0)
        let heard = Mutex<[Int: [GenerationEvent]]>([:])
        try engine.submit(Array(requests.prefix(2))) { index, event in
            heard.withLock { $0[index, default: []].append(event) }
            if case .finished = event { finished.signal() }
        }
        for _ in 0 ..< 2 { finished.wait() }
        let events = heard.withLock { $0 }
        #expect(events.keys.sorted() == [0, 1])
        for index in 0 ..< 2 {
            #expect(events[index]?.last == .finished(.length, promptTokens: 2, completionTokens: 3))
        }
    }

    /// Every request's queue time lands in the published snapshot once, preempted or not, and the
    /// per-request records are all dropped when the requests end.
    @Test func queueTimeIsMeasuredOncePerRequest() throws {
        // Few blocks: requests preempt each other and are admitted again.
        let engine = try Self.makeEngine(blockSize: 4, blockCount: 24, prefixCaching: false)
        defer { engine.shutdown() }
        let requests = Self.greedyRequests(maxTokens: 24)
        _ = try engine.generate(requests)
        let stats = engine.stats()
        #expect(stats.preemptionsTotal > 0, "the test wants preemptions")
        #expect(stats.queueSeconds.count == requests.count)
        #expect(stats.iterationRows.count == stats.iterationsTotal)
        #expect(stats.runningCount == 0 && stats.waitingCount == 0)
    }

    @Test func configurationErrorsAreReported() {
        #expect(throws: EngineError.self) {
            _ = try InferenceEngine(model: FakeForwardModel(), configuration: EngineConfiguration(maxBatchedTokens: 0, kvCapacity: .blocks(4)))
        }
        let error = #expect(throws: EngineError.self) {
            _ = try InferenceEngine(model: FakeForwardModel(), configuration: EngineConfiguration(kvCapacity: .bytes(10)))
        }
        #expect(error?.description.contains("raise the KV cache size") == true)
    }

    @Test func asyncStreamDeliversTokensThenFinished() async throws {
        let engine = try Self.makeEngine()
        defer { engine.shutdown() }
        let prompt: [Int32] = [2, 7, 1, 8]
        let stream = try engine.submit(GenerationRequest(id: "a", promptTokenIds: prompt, maxTokens: 6, ignoresEndOfSequence: true))
        var tokens: [Int32] = []
        var final: GenerationEvent?
        for await event in stream {
            switch event {
            case let .tokens(ids, _): tokens += ids
            case .finished, .failed: final = event
            case .promptLogprobs: Issue.record("no prompt logprobs were asked for")
            }
        }
        #expect(tokens == FakeForwardModel.referenceGreedy(prompt: prompt, maxTokens: 6, stopTokens: []))
        #expect(final == .finished(.length, promptTokens: 4, completionTokens: 6))
    }

    @Test func observerSeesEveryIterationAndShutdownAbortsTheRest() throws {
        let reports = ReportLog()
        let engine = try Self.makeEngine(maxBatchedTokens: 6, observer: { reports.append($0) })
        let results = try engine.generate(Self.greedyRequests(maxTokens: 4))
        #expect(results.allSatisfy { $0.tokenIds.count == 4 })
        let stats = engine.stats()
        let all = reports.all
        #expect(all.count == stats.iterationsTotal)
        #expect(all.map(\.index) == Array(0 ..< all.count))
        #expect(all.allSatisfy { $0.rowCount <= 6 && $0.rowCount == $0.prefillRowCount + $0.decodeRowCount })
        #expect(all.reduce(0) { $0 + $1.generatedTokenCount } == 64)
        #expect(stats.iterationRows.count == all.count)
        #expect(stats.iterationSeconds.cumulativeCounts.last == all.count)
        #expect(stats.decodeRowsTotal + stats.prefillRowsTotal == all.reduce(0) { $0 + $1.rowCount })

        let log = EventLog()
        try engine.submit(GenerationRequest(id: "late", promptTokenIds: [1], maxTokens: 400, ignoresEndOfSequence: true)) { log.append("late", $0) }
        engine.shutdown()
        guard case let .finished(reason, _, _, _)? = log.events(for: "late").last else {
            Issue.record("shutdown left a request unfinished")
            return
        }
        #expect(reason == .abort)
        #expect(throws: EngineError.engineStopped) { try engine.submit(GenerationRequest(id: "z", promptTokenIds: [1], maxTokens: 1)) { _ in } }
    }
}

/// Events per request, with waits (the engine thread appends).
final class EventLog: @unchecked Sendable {
    private let condition = NSCondition()
    private var log: [String: [GenerationEvent]] = [:]
    private var finishedCount = 0

    func append(_ id: String, _ event: GenerationEvent) {
        condition.lock()
        log[id, default: []].append(event)
        if event.isTerminal { finishedCount += 1 }
        condition.broadcast()
        condition.unlock()
    }

    func events(for id: String) -> [GenerationEvent] {
        condition.lock()
        defer { condition.unlock() }
        return log[id] ?? []
    }

    func waitForTokens(id: String, count: Int) {
        condition.lock()
        defer { condition.unlock() }
        while (log[id] ?? []).reduce(0, { total, event in
            if case let .tokens(ids, _) = event { return total + ids.count }
            return total
        }) < count {
            condition.wait()
        }
    }

    func waitForFinished(count: Int) {
        condition.lock()
        defer { condition.unlock() }
        while finishedCount < count { condition.wait() }
    }
}

/// Iteration reports, collected from the engine thread.
final class ReportLog: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [IterationReport] = []
    func append(_ report: IterationReport) {
        lock.lock()
        reports.append(report)
        lock.unlock()
    }
    var all: [IterationReport] { lock.lock(); defer { lock.unlock() }; return reports }
}
