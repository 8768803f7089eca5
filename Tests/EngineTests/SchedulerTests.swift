import Testing
import KVCache
@testable import Engine

/// Scheduler rules, with no model and no clock: plans are checked directly.
@Suite struct SchedulerTests {
    static func makeScheduler(
        maxSequences: Int = 64, maxBatchedTokens: Int = 512, maxModelLength: Int = 1_000, blockSize: Int = 4, blockCount: Int = 64
    ) -> Scheduler {
        Scheduler(
            configuration: SchedulerConfiguration(
                maxSequenceCount: maxSequences, maxBatchedTokens: maxBatchedTokens, maxModelLength: maxModelLength,
                blockSize: blockSize, blockCount: blockCount),
            endOfSequenceTokenIds: [99])
    }

    static func request(_ id: String, prompt: Int, maxTokens: Int = 8, stop: [Int32] = []) -> GenerationRequest {
        GenerationRequest(id: id, promptTokenIds: (0 ..< prompt).map { Int32($0 % 50) }, maxTokens: maxTokens, stopTokenIds: stop)
    }

    /// Every output chunk samples token 7.
    static func sampleSevens(_ plan: SchedulePlan) -> [String: [Int32]] {
        Dictionary(uniqueKeysWithValues: plan.outputChunks.map { ($0.sequenceId, [Int32(7)]) })
    }

    @Test func admitsInArrivalOrderUpToMaxSequences() throws {
        var scheduler = Self.makeScheduler(maxSequences: 2)
        for id in ["a", "b", "c"] { try scheduler.add(Self.request(id, prompt: 3)) }
        let plan = scheduler.schedule()
        #expect(plan.chunks.map(\.sequenceId) == ["a", "b"])
        #expect(plan.admittedIds == ["a", "b"])
        #expect(scheduler.waitingIds == ["c"])
        #expect(plan.chunks.allSatisfy { $0.wantsOutput && !$0.isDecode })
        #expect(scheduler.invariantViolations().isEmpty)
    }

    @Test func tokenBudgetCapsEveryPlan() throws {
        var scheduler = Self.makeScheduler(maxBatchedTokens: 10)
        for id in ["a", "b", "c", "d"] { try scheduler.add(Self.request(id, prompt: 4, maxTokens: 20)) }
        var iterations = 0
        while !scheduler.isIdle && iterations < 200 {
            let plan = scheduler.schedule()
            #expect(plan.rowCount <= 10)
            #expect(plan.rowCount > 0)
            _ = scheduler.complete(plan, sampledTokens: Self.sampleSevens(plan))
            iterations += 1
        }
        #expect(scheduler.isIdle)
        #expect(scheduler.allocator.freeCount == 64)
    }

    @Test func firstPlanFillsTheBudgetWithPromptChunks() throws {
        var scheduler = Self.makeScheduler(maxBatchedTokens: 10)
        for id in ["a", "b", "c"] { try scheduler.add(Self.request(id, prompt: 4)) }
        let plan = scheduler.schedule()
        #expect(plan.chunks.map(\.rowCount) == [4, 4, 2], "c gets the 2 rows left of the budget")
        #expect(plan.chunks.map(\.wantsOutput) == [true, true, false])
    }

    @Test func longPromptIsPrefilledInChunks() throws {
        var scheduler = Self.makeScheduler(maxBatchedTokens: 16)
        try scheduler.add(Self.request("long", prompt: 40))
        var chunks: [SchedulePlan.Chunk] = []
        for _ in 0 ..< 3 {
            let plan = scheduler.schedule()
            chunks += plan.chunks
            _ = scheduler.complete(plan, sampledTokens: Self.sampleSevens(plan))
        }
        #expect(chunks.map(\.rowCount) == [16, 16, 8])
        #expect(chunks.map(\.firstEntry) == [0, 16, 32])
        #expect(chunks.map(\.wantsOutput) == [false, false, true])
        let sequence = try #require(scheduler.sequence("long"))
        #expect(sequence.outputTokenIds == [7])
        #expect(sequence.entryCount == 40)
        #expect(sequence.ropePosition == 40, "the sampled token sits right after the prompt")
        let next = scheduler.schedule()
        #expect(next.chunks == [SchedulePlan.Chunk(sequenceId: "long", firstEntry: 40, rowCount: 1, wantsOutput: true, isDecode: true)])
    }

    @Test func decodeRowsGoBeforePrefillChunks() throws {
        var scheduler = Self.makeScheduler(maxBatchedTokens: 8)
        try scheduler.add(Self.request("old", prompt: 20))
        try scheduler.add(Self.request("new", prompt: 2))
        // old: 8 rows; then old 8 rows; then old 4 rows + new 2 rows.
        for _ in 0 ..< 3 {
            let plan = scheduler.schedule()
            _ = scheduler.complete(plan, sampledTokens: Self.sampleSevens(plan))
        }
        try scheduler.add(Self.request("third", prompt: 30))
        let plan = scheduler.schedule()
        #expect(plan.chunks.map(\.sequenceId) == ["old", "new", "third"])
        #expect(plan.chunks.map(\.rowCount) == [1, 1, 6])
        #expect(plan.decodeRowCount == 2)
        #expect(plan.prefillRowCount == 6)
    }

    @Test func headOfQueueThatDoesNotFitBlocksThoseBehindIt() throws {
        var scheduler = Self.makeScheduler(blockSize: 4, blockCount: 6)
        try scheduler.add(Self.request("a", prompt: 12, maxTokens: 4)) // 3 blocks
        try scheduler.add(Self.request("big", prompt: 16, maxTokens: 4)) // 4 blocks: does not fit next to a
        try scheduler.add(Self.request("small", prompt: 2, maxTokens: 2)) // would fit, but is behind big
        let plan = scheduler.schedule()
        #expect(plan.chunks.map(\.sequenceId) == ["a"])
        #expect(scheduler.waitingIds == ["big", "small"])
    }

    @Test func preemptsTheMostRecentlyAdmittedAndRequeuesItAtTheFront() throws {
        // 4 blocks of 4 entries; a and b each take 2 blocks for their 8-token prompts.
        var scheduler = Self.makeScheduler(blockSize: 4, blockCount: 4)
        try scheduler.add(Self.request("a", prompt: 8, maxTokens: 8))
        try scheduler.add(Self.request("b", prompt: 8, maxTokens: 8))
        try scheduler.add(Self.request("c", prompt: 2, maxTokens: 2))
        let first = scheduler.schedule()
        #expect(first.chunks.map(\.sequenceId) == ["a", "b"])
        _ = scheduler.complete(first, sampledTokens: Self.sampleSevens(first))
        #expect(scheduler.allocator.freeCount == 0)

        // a's 9th entry needs a block: b (admitted later) is preempted and a runs alone.
        let second = scheduler.schedule()
        #expect(second.preemptedIds == ["b"])
        #expect(second.chunks.map(\.sequenceId) == ["a"])
        #expect(second.admittedIds.isEmpty, "nobody is admitted in an iteration that preempted")
        #expect(scheduler.waitingIds == ["b", "c"], "the victim goes to the front of the queue")
        #expect(scheduler.preemptionCount == 1)
        let victim = try #require(scheduler.sequence("b"))
        #expect(victim.status == .preempted)
        #expect(victim.blockTable.blocks.isEmpty)
        #expect(victim.outputTokenIds == [7], "generated tokens survive a preemption")
        #expect(victim.pendingEntryCount == 9, "prompt + generated token are recomputed")
        #expect(scheduler.invariantViolations().isEmpty)
    }

    @Test func newestSequenceThatCannotGrowPreemptsItself() throws {
        var scheduler = Self.makeScheduler(blockSize: 4, blockCount: 3)
        try scheduler.add(Self.request("a", prompt: 3, maxTokens: 4)) // 1 block, grows at entry 5
        try scheduler.add(Self.request("b", prompt: 8, maxTokens: 4)) // 2 blocks, grows at entry 9
        let first = scheduler.schedule()
        _ = scheduler.complete(first, sampledTokens: Self.sampleSevens(first))
        // a needs no block for entry 4; b needs one for entry 9 and is the newest: b preempts itself.
        let second = scheduler.schedule()
        #expect(second.preemptedIds == ["b"])
        #expect(second.chunks.map(\.sequenceId) == ["a"])
        #expect(scheduler.invariantViolations().isEmpty)
    }

    @Test func cancellationFreesEveryBlockAtOnce() throws {
        var scheduler = Self.makeScheduler(maxBatchedTokens: 6, blockSize: 4, blockCount: 16)
        try scheduler.add(Self.request("a", prompt: 10))
        try scheduler.add(Self.request("b", prompt: 5))
        try scheduler.add(Self.request("c", prompt: 5))
        let plan = scheduler.schedule()
        _ = scheduler.complete(plan, sampledTokens: Self.sampleSevens(plan))
        #expect(scheduler.allocator.usedCount > 0)
        let cancelled = scheduler.cancel("a")
        #expect(cancelled?.status == .finished(.abort))
        let waitingCancelled = scheduler.cancel("c")
        #expect(waitingCancelled?.status == .finished(.abort), "a waiting sequence can be cancelled too")
        let unknown = scheduler.cancel("nobody")
        #expect(unknown == nil)
        #expect(scheduler.allocator.usedCount == 0, "b was never admitted, a's blocks are back")
        #expect(scheduler.runningIds.isEmpty)
        #expect(scheduler.waitingIds == ["b"])
        #expect(scheduler.invariantViolations().isEmpty)
    }

    @Test func cancellationBetweenScheduleAndCompleteIsSkipped() throws {
        var scheduler = Self.makeScheduler()
        try scheduler.add(Self.request("a", prompt: 3))
        try scheduler.add(Self.request("b", prompt: 3))
        let plan = scheduler.schedule()
        scheduler.cancel("a")
        let advances = scheduler.complete(plan, sampledTokens: Self.sampleSevens(plan))
        #expect(advances.map(\.sequenceId) == ["b"])
        #expect(scheduler.allocator.usedCount == 1)
        #expect(scheduler.invariantViolations().isEmpty)
    }

    @Test func stopTokenEndsWithStopAndIsNotEmitted() throws {
        var scheduler = Self.makeScheduler()
        try scheduler.add(Self.request("a", prompt: 3, maxTokens: 10, stop: [42]))
        try scheduler.add(Self.request("b", prompt: 3, maxTokens: 10))
        var plan = scheduler.schedule()
        var advances = scheduler.complete(plan, sampledTokens: ["a": [5], "b": [99]]) // 99 is the EOS id
        #expect(advances.first { $0.sequenceId == "b" } == SequenceAdvance(
            sequenceId: "b", emittedTokenIds: [], acceptedTokenCount: 1, finishReason: .stop, promptTokenCount: 3,
            completionTokenCount: 1))
        plan = scheduler.schedule()
        advances = scheduler.complete(plan, sampledTokens: ["a": [42]])
        #expect(advances.first?.finishReason == .stop)
        #expect(advances.first?.emittedTokenIds == [])
        #expect(advances.first?.completionTokenCount == 2)
        #expect(scheduler.isIdle)
        #expect(scheduler.allocator.usedCount == 0, "finished sequences free their blocks")
    }

    @Test func maxTokensEndsWithLength() throws {
        var scheduler = Self.makeScheduler()
        try scheduler.add(Self.request("a", prompt: 3, maxTokens: 3))
        var emitted: [Int32] = []
        var reason: FinishReason?
        while !scheduler.isIdle {
            let plan = scheduler.schedule()
            for advance in scheduler.complete(plan, sampledTokens: Self.sampleSevens(plan)) {
                emitted += advance.emittedTokenIds
                reason = advance.finishReason ?? reason
            }
        }
        #expect(emitted == [7, 7, 7])
        #expect(reason == .length)
    }

    @Test func groupIsCutAtStopTokenAndMaxTokens() throws {
        // A HAMburger step may bring several tokens; tokens after the cut are dropped.
        var scheduler = Self.makeScheduler()
        try scheduler.add(Self.request("a", prompt: 2, maxTokens: 4, stop: [9]))
        try scheduler.add(Self.request("b", prompt: 2, maxTokens: 4))
        var plan = scheduler.schedule()
        var advances = scheduler.complete(plan, sampledTokens: ["a": [1, 2], "b": [1, 2, 3]])
        #expect(advances.map(\.emittedTokenIds) == [[1, 2], [1, 2, 3]])
        let merged = try #require(scheduler.sequence("a"))
        #expect(merged.entryInputs.last == .mergedGroup([1, 2]))
        #expect(merged.ropePosition == 3, "a group of 2 after position 1 sits at position 3")
        plan = scheduler.schedule()
        #expect(plan.rowCount == 2, "one row (one KV entry) per group")
        advances = scheduler.complete(plan, sampledTokens: ["a": [3, 9, 4], "b": [4, 5]])
        #expect(advances.map(\.emittedTokenIds) == [[3], [4]])
        #expect(advances.map(\.finishReason) == [.stop, .length])
        #expect(advances.map(\.acceptedTokenCount) == [2, 1])
    }

    @Test func overlongRequestsAreRejectedWithTheNumbers() {
        let scheduler = Self.makeScheduler(maxModelLength: 100, blockSize: 4, blockCount: 64)
        let configuration = scheduler.configuration
        let error = #expect(throws: EngineError.self) { try Scheduler.validate(Self.request("x", prompt: 90, maxTokens: 20), configuration: configuration) }
        #expect(error == .exceedsMaxModelLength(requestId: "x", promptTokens: 90, maxTokens: 20, maxModelLength: 100))
        let message = error?.description ?? ""
        #expect(message.contains("90") && message.contains("20") && message.contains("100") && message.contains("10"))
        #expect(throws: EngineError.exceedsKVCapacity(requestId: "y", entriesNeeded: 299, entryCapacity: 256)) {
            let small = Self.makeScheduler(maxModelLength: 1_000, blockSize: 4, blockCount: 64)
            try Scheduler.validate(Self.request("y", prompt: 200, maxTokens: 100), configuration: small.configuration)
        }
        #expect(throws: EngineError.emptyPrompt(requestId: "e")) { try Scheduler.validate(Self.request("e", prompt: 0), configuration: configuration) }
        #expect(throws: EngineError.invalidMaxTokens(requestId: "m", maxTokens: 0)) {
            try Scheduler.validate(Self.request("m", prompt: 3, maxTokens: 0), configuration: configuration)
        }
        #expect(scheduler.isIdle)
    }

    @Test func duplicateIdsAreRejected() throws {
        var scheduler = Self.makeScheduler()
        try scheduler.add(Self.request("a", prompt: 3))
        #expect(throws: EngineError.duplicateRequestId("a")) { try scheduler.add(Self.request("a", prompt: 3)) }
    }

    /// Many sequences, a tiny cache, random cancellations: invariants hold after every event, every
    /// sequence finishes or is cancelled, and every block comes back.
    @Test func randomWorkloadKeepsInvariantsAndFreesEverything() throws {
        var scheduler = Self.makeScheduler(maxSequences: 6, maxBatchedTokens: 12, maxModelLength: 200, blockSize: 4, blockCount: 12)
        var random = Xoshiro256StarStar(seed: 11)
        var finished = 0
        for index in 0 ..< 40 {
            try scheduler.add(Self.request("r\(index)", prompt: 1 + Int(random.next() % 20), maxTokens: 1 + Int(random.next() % 16)))
        }
        var iterations = 0
        while !scheduler.isIdle && iterations < 5_000 {
            let plan = scheduler.schedule()
            #expect(plan.rowCount <= 12)
            #expect(scheduler.runningCount <= 6)
            #expect(scheduler.invariantViolations().isEmpty)
            if random.next() % 10 == 0, let victim = (scheduler.runningIds + scheduler.waitingIds).randomElement(using: &random) {
                if scheduler.cancel(victim) != nil { finished += 1 }
            }
            var sampled: [String: [Int32]] = [:]
            for chunk in plan.outputChunks { sampled[chunk.sequenceId] = [Int32(random.next() % 120)] }
            for advance in scheduler.complete(plan, sampledTokens: sampled) where advance.finishReason != nil { finished += 1 }
            #expect(scheduler.invariantViolations().isEmpty)
            iterations += 1
        }
        #expect(scheduler.isIdle)
        #expect(finished == 40)
        #expect(scheduler.preemptionCount > 0, "the cache is too small for six sequences at once")
        #expect(scheduler.allocator.freeCount == 12)
    }
}

/// Automatic prefix caching in the scheduler: full prompt blocks shared through reference counts,
/// kept after a request ends, evicted under pressure, and safe under preemption.
@Suite struct SchedulerPrefixCachingTests {
    static func makeScheduler(blockCount: Int = 64, maxBatchedTokens: Int = 512) -> Scheduler {
        Scheduler(
            configuration: SchedulerConfiguration(maxBatchedTokens: maxBatchedTokens, maxModelLength: 1_000, blockSize: 4,
                                                  blockCount: blockCount, enablePrefixCaching: true),
            endOfSequenceTokenIds: [99])
    }

    static func run(_ scheduler: inout Scheduler, until done: (Scheduler) -> Bool, limit: Int = 500) {
        var iterations = 0
        while !done(scheduler) && iterations < limit {
            let plan = scheduler.schedule()
            _ = scheduler.complete(plan, sampledTokens: SchedulerTests.sampleSevens(plan))
            iterations += 1
        }
    }

    @Test func aRepeatedPromptReusesItsFullBlocks() throws {
        var scheduler = Self.makeScheduler()
        try scheduler.add(SchedulerTests.request("a", prompt: 10, maxTokens: 3))
        Self.run(&scheduler) { $0.isIdle }
        #expect(scheduler.prefixCache?.blockCount == 2, "two full prompt blocks of 4 kept")
        #expect(scheduler.blocksInUse == 0, "kept blocks are not in use")
        #expect(scheduler.prefixCacheQueriedTokens == 10 && scheduler.prefixCacheHitTokens == 0)

        try scheduler.add(SchedulerTests.request("b", prompt: 10, maxTokens: 3))
        let plan = scheduler.schedule()
        let chunk = try #require(plan.chunks.first)
        #expect(chunk.firstEntry == 8 && chunk.rowCount == 2, "only the last 2 prompt tokens run")
        #expect(scheduler.sequence("b")?.cachedPromptTokenCount == 8)
        #expect(scheduler.prefixCacheHitTokens == 8)
        #expect(scheduler.invariantViolations().isEmpty)
        _ = scheduler.complete(plan, sampledTokens: SchedulerTests.sampleSevens(plan))
        Self.run(&scheduler) { $0.isIdle }
        #expect(scheduler.invariantViolations().isEmpty)
    }

    @Test func aPromptOfWholeBlocksStillRunsItsLastToken() throws {
        var scheduler = Self.makeScheduler()
        try scheduler.add(SchedulerTests.request("a", prompt: 8, maxTokens: 2))
        Self.run(&scheduler) { $0.isIdle }
        try scheduler.add(SchedulerTests.request("b", prompt: 8, maxTokens: 2))
        let plan = scheduler.schedule()
        #expect(plan.chunks.first?.firstEntry == 4, "the second block holds the last token, whose logits are needed")
        #expect(plan.chunks.first?.rowCount == 4)
        _ = scheduler.complete(plan, sampledTokens: SchedulerTests.sampleSevens(plan))
        #expect(scheduler.invariantViolations().isEmpty)
    }

    @Test func runningSequencesShareBlocksAndEveryBlockComesBack() throws {
        var scheduler = Self.makeScheduler()
        try scheduler.add(SchedulerTests.request("a", prompt: 13, maxTokens: 20))
        Self.run(&scheduler) { $0.sequence("a")?.isPrefilling == false && $0.sequence("a")?.entryCount ?? 0 >= 13 }
        for id in ["b", "c"] { try scheduler.add(SchedulerTests.request(id, prompt: 13, maxTokens: 5)) }
        _ = scheduler.schedule()
        let a = try #require(scheduler.sequence("a")), b = try #require(scheduler.sequence("b"))
        #expect(Array(a.blockTable.blocks.prefix(3)) == Array(b.blockTable.blocks.prefix(3)), "b shares a's three full prompt blocks")
        #expect(scheduler.allocator.referenceCount(of: a.blockTable.blocks[0]) == 4, "a, b, c and the cache")
        #expect(scheduler.invariantViolations().isEmpty)
        Self.run(&scheduler) { $0.isIdle }
        #expect(scheduler.blocksInUse == 0)
        #expect(scheduler.allocator.usedCount == scheduler.prefixCache?.blockCount)
        #expect(scheduler.invariantViolations().isEmpty)
    }

    @Test func keptBlocksAreEvictedWhenMemoryIsNeeded() throws {
        var scheduler = Self.makeScheduler(blockCount: 8)
        for (i, id) in ["a", "b", "c"].enumerated() {
            // Different prompts: each leaves two kept blocks.
            try scheduler.add(GenerationRequest(id: id, promptTokenIds: (0 ..< 9).map { Int32(i * 10 + $0) }, maxTokens: 2))
            Self.run(&scheduler) { $0.isIdle }
        }
        #expect(scheduler.prefixCache?.blockCount == 6)
        #expect(scheduler.allocator.freeCount == 2)
        // 30 entries need all 8 blocks: the kept ones go, and the request runs to the end.
        try scheduler.add(GenerationRequest(id: "big", promptTokenIds: (0 ..< 28).map { Int32(100 + $0) }, maxTokens: 3))
        Self.run(&scheduler) { $0.isIdle }
        #expect(scheduler.sequence("big") == nil, "finished and gone")
        #expect(scheduler.preemptionCount == 0)
        #expect(scheduler.invariantViolations().isEmpty)
    }

    @Test func preemptingASequenceThatSharesBlocksKeepsTheOthersIntact() throws {
        var scheduler = Self.makeScheduler(blockCount: 9)
        try scheduler.add(SchedulerTests.request("seed", prompt: 9, maxTokens: 1))
        Self.run(&scheduler) { $0.isIdle }
        // Three sequences share the two kept blocks and then grow until blocks run out.
        for id in ["x", "y", "z"] { try scheduler.add(SchedulerTests.request(id, prompt: 9, maxTokens: 12)) }
        var outputs: [String: [Int32]] = [:]
        var iterations = 0
        while !scheduler.isIdle && iterations < 500 {
            let plan = scheduler.schedule()
            #expect(scheduler.invariantViolations().isEmpty)
            for advance in scheduler.complete(plan, sampledTokens: SchedulerTests.sampleSevens(plan)) {
                outputs[advance.sequenceId, default: []] += advance.emittedTokenIds
            }
            iterations += 1
        }
        #expect(scheduler.preemptionCount > 0, "the cache is too small for all three at once")
        #expect(outputs["x"]?.count == 12 && outputs["y"]?.count == 12 && outputs["z"]?.count == 12)
        #expect(scheduler.blocksInUse == 0)
        #expect(scheduler.invariantViolations().isEmpty)
    }
}
