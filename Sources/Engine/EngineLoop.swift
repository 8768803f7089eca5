import Hamburger
import KVCache
import Llama
import StructuredOutput

/// The engine thread's body: it alone owns the model, the KV pages, the scheduler and one
/// `RequestRecord` per request in flight (sampler, event sinks, timestamps).
///
/// Loop: pick up submissions and cancellations (sleeping when there is nothing to do) -> schedule ->
/// build one `ForwardBatch` -> one forward pass -> sample every output row (HAMburger rows: the micro
/// loop, up to K tokens each, see `EngineLoop+MacroStep`) -> `Scheduler.complete` -> emit events ->
/// publish stats. A forward pass that throws ends every sequence of its batch, a row of non-finite
/// logits ends its own sequence (`GenerationEvent.failed`, blocks freed at once); the others of the
/// batch go on as if nothing happened, and so does the loop. `@unchecked Sendable` only so the thread
/// can be started with it; after `run()` begins, nothing else touches it.
final class EngineLoop: @unchecked Sendable {
    private let model: any ForwardModel
    private let pages: KVPages
    private var scheduler: Scheduler
    private let builder: BatchBuilder
    /// The HAMburger adapter bound to the base (nil: autoregressive only).
    let hamburger: HamburgerRuntime?
    private let mailbox: EngineMailbox
    private let observer: (@Sendable (IterationReport) -> Void)?
    private let clock: @Sendable () -> UInt64
    /// One record per request accepted and not yet finished, keyed by request id.
    private var records: [String: RequestRecord] = [:]
    var scratch = SamplingScratch()
    var stats: EngineStats
    /// Events of this round, delivered after the stats are published (so that a caller woken by
    /// `.finished` reads stats that already count it).
    private var outbox: [(sink: @Sendable (GenerationEvent) -> Void, event: GenerationEvent)] = []

    init(
        model: any ForwardModel, pages: KVPages, scheduler: Scheduler, mailbox: EngineMailbox,
        configuration: EngineConfiguration, stats: EngineStats, hamburger: HamburgerRuntime? = nil
    ) {
        precondition(hamburger.map { $0.base === model } ?? true, "the HAMburger adapter must run over the engine's own model")
        self.model = model
        self.hamburger = hamburger
        builder = BatchBuilder(
            featureLayers: hamburger?.featureLayers ?? [],
            mergeGroups: hamburger.map { runtime in { runtime.mergeGroups($0) } },
            mergeLoRA: hamburger?.adapter.mergeLoRA)
        self.pages = pages
        self.scheduler = scheduler
        self.mailbox = mailbox
        observer = configuration.iterationObserver
        clock = configuration.clock
        self.stats = stats
    }

    func run() {
        while true {
            let work = mailbox.takeWork(blockingWhenIdle: scheduler.isIdle)
            for submission in work.submissions { accept(submission) }
            for cancellation in work.cancellations { abort(cancellation.id, reason: cancellation.reason) }
            if work.isStopping {
                for id in scheduler.runningIds + scheduler.waitingIds { abort(id) }
                deliver()
                mailbox.markStopped()
                return
            }
            if !scheduler.isIdle { runIteration() }
            deliver()
        }
    }

    /// Publishes the stats, then hands out the queued events.
    private func deliver() {
        publishStats()
        let events = outbox
        outbox = []
        for (sink, event) in events { sink(event) }
    }

    private func accept(_ submission: Submission) {
        let request = submission.request
        do {
            try scheduler.add(request)
        } catch {
            mailbox.markFinished(request.id)
            outbox.append((submission.onEvent, .finished(.abort, promptTokens: request.promptTokenIds.count, completionTokens: 0)))
            return
        }
        records[request.id] = RequestRecord(submission: submission, acceptedAt: clock())
    }

    /// Samples the next token of request `id` from its row of logits with the request's own sampler.
    func sample(_ id: String, logits: UnsafeBufferPointer<Float>) -> SampledToken? {
        // Taken out and put back so that sampling mutates the sampler without copying it.
        guard var record = records.removeValue(forKey: id) else { return nil }
        defer { records[id] = record }
        return record.sampler.sample(logits: logits, scratch: &scratch)
    }

    /// Request `id`'s constraint state (nil: unconstrained or unknown), read before a micro pick so that a
    /// dropped micro token's automaton step can be undone.
    func grammarState(_ id: String) -> GrammarState? { records[id]?.sampler.grammarState }

    func restoreGrammarState(_ id: String, _ state: GrammarState) { records[id]?.sampler.grammarState = state }

    /// Whether request `id`'s constraint leaves at most one token next (HAMburger ends its group there).
    func constraintIsForced(_ id: String) -> Bool { records[id]?.sampler.constraintIsForced ?? false }

    private func abort(_ id: String, reason: FinishReason = .abort) {
        guard let sequence = scheduler.cancel(id, reason: reason) else { return }
        finish(id, reason, promptTokens: sequence.promptTokenCount, completionTokens: sequence.outputTokenIds.count,
               cachedPromptTokens: sequence.cachedPromptTokenCount)
    }

    private func finish(_ id: String, _ reason: FinishReason, promptTokens: Int, completionTokens: Int, cachedPromptTokens: Int) {
        stats.requestsFinished[reason, default: 0] += 1
        end(id, with: .finished(reason, promptTokens: promptTokens, completionTokens: completionTokens, cachedPromptTokens: cachedPromptTokens))
    }

    /// Ends sequence `id` because the engine cannot compute it: its blocks are freed now, its caller
    /// hears `.failed(error)`. Unknown or finished ids are ignored.
    private func fail(_ id: String, _ error: EngineError) {
        guard let sequence = scheduler.cancel(id) else { return }
        stats.requestsFailed += 1
        end(id, with: .failed(error, promptTokens: sequence.promptTokenCount, completionTokens: sequence.outputTokenIds.count))
    }

    /// Fails every sequence of `plan`: its forward pass did not give usable output.
    private func failBatch(_ plan: SchedulePlan, reason: String) {
        for chunk in plan.chunks { fail(chunk.sequenceId, .forwardFailed(requestId: chunk.sequenceId, reason: reason)) }
    }

    /// The one place a request's record is dropped: `event` is its terminal event.
    private func end(_ id: String, with event: GenerationEvent) {
        let record = records.removeValue(forKey: id)
        mailbox.markFinished(id)
        if let record { outbox.append((record.onEvent, event)) }
    }

    private func runIteration() {
        let start = clock()
        let plan = scheduler.schedule()
        guard !plan.isEmpty, let batch = builder.build(plan, from: scheduler) else {
            // Unreachable while submissions are validated against the cache size; never spin on it.
            assertionFailure("the scheduler produced no runnable batch")
            for id in scheduler.runningIds + scheduler.waitingIds { abort(id) }
            return
        }
        var queueSeconds: [Double] = []
        for id in plan.admittedIds {
            if let sequence = scheduler.sequence(id), sequence.preemptionCount == 0 {
                stats.promptTokensTotal += sequence.promptTokenCount
            }
            if let accepted = records[id]?.acceptedAt, records[id]?.firstAdmittedAt == nil {
                records[id]?.firstAdmittedAt = start
                queueSeconds.append(Double(start &- min(start, accepted)) / 1e9)
            }
        }
        let blocksDuringPass = scheduler.blocksInUse
        stats.kvBlocksUsedPeak = max(stats.kvBlocksUsedPeak, blocksDuringPass)
        let forwardStart = clock()
        let forwarded = Result { try model.forward(batch, pages: pages) }
        let forwardEnd = clock()
        guard let output = usableOutput(forwarded, plan: plan) else {
            record(plan: plan, generated: 0, blocksDuringPass: blocksDuringPass, start: start, forwardStart: forwardStart,
                   forwardEnd: forwardEnd, queueSeconds: queueSeconds)
            return
        }
        let vocab = model.vocabSize
        for cancellation in mailbox.takeCancellations() { abort(cancellation.id, reason: cancellation.reason) }

        // Each output chunk's sampling row is the last of its output rows.
        var outputChunks: [(row: Int, chunk: SchedulePlan.Chunk)] = []
        var failures: [String: EngineError] = [:]
        var nextRow = 0
        for chunk in plan.chunks where chunk.outputRowCount > 0 {
            if chunk.outputsEveryRow, let error = reportPromptLogprobs(chunk, firstRow: nextRow, output: output) {
                failures[chunk.sequenceId] = error
            }
            nextRow += chunk.outputRowCount
            if chunk.wantsOutput { outputChunks.append((nextRow - 1, chunk)) }
        }
        var sampledTokens: [String: [Int32]] = [:]
        var sampledLogprobs: [String: [TokenLogprob]] = [:]
        var macroRows: [(id: String, row: MacroStepRow)] = []
        output.logits.withUnsafeBufferPointer { logits in
            for (row, chunk) in outputChunks where failures[chunk.sequenceId] == nil {
                let id = chunk.sequenceId
                guard let sequence = scheduler.sequence(id) else { continue }
                let rowLogits = UnsafeBufferPointer(rebasing: logits[row * vocab ..< (row + 1) * vocab])
                let nonFinite = SamplingMath.nonFiniteCount(rowLogits)
                guard nonFinite == 0 else {
                    failures[id] = .nonFiniteLogits(requestId: id, nonFiniteCount: nonFinite, vocabSize: vocab)
                    continue
                }
                guard let sampled = sample(id, logits: rowLogits) else { continue }
                sampledTokens[id] = [sampled.tokenId]
                if let logprob = sampled.logprob { sampledLogprobs[id] = [logprob] }
                if case let .hamburger(confidence, minProbability) = sequence.request.decoding, hamburger != nil {
                    macroRows.append((id, MacroStepRow(
                        outputRow: row, firstToken: sampled.tokenId, confidence: confidence, minProbability: minProbability,
                        remaining: sequence.remainingTokenCount, stopTokenIds: sequence.stopTokenIds)))
                }
            }
        }
        runMicroSteps(macroRows, output: output, tokens: &sampledTokens, logprobs: &sampledLogprobs, failures: &failures)
        let macroIds = Set(macroRows.map(\.id))
        // Failed sequences leave before `complete`, which then skips them: nothing of this pass is kept.
        for chunk in plan.chunks {
            if let error = failures[chunk.sequenceId] { fail(chunk.sequenceId, error) }
        }

        var generated = 0
        for advance in scheduler.complete(plan, sampledTokens: sampledTokens) {
            let id = advance.sequenceId
            generated += advance.acceptedTokenCount
            records[id]?.onGroup?(advance.acceptedTokenCount)
            if macroIds.contains(id), let hamburger {
                stats.recordMacroStep(tokenCount: advance.acceptedTokenCount, maxSteps: hamburger.maxSteps)
            }
            var emitted = advance.emittedTokenIds
            // Scoring requests (prompt logprobs) hear the stop token too, as vLLM reports it: an
            // evaluation client counts on one entry per generated token.
            if advance.finishReason == .stop, records[id]?.reportsStopToken == true, let group = sampledTokens[id],
               advance.acceptedTokenCount > emitted.count, advance.acceptedTokenCount <= group.count {
                emitted.append(group[advance.acceptedTokenCount - 1])
            }
            if !emitted.isEmpty {
                let logprobs = sampledLogprobs[id].map { Array($0.prefix(emitted.count)) }
                if let record = records[id] { outbox.append((record.onEvent, .tokens(emitted, logprobs: logprobs))) }
            }
            if let reason = advance.finishReason {
                finish(id, reason, promptTokens: advance.promptTokenCount, completionTokens: advance.completionTokenCount,
                       cachedPromptTokens: advance.cachedPromptTokenCount)
            }
        }
        record(
            plan: plan, generated: generated, blocksDuringPass: blocksDuringPass, start: start, forwardStart: forwardStart, forwardEnd: forwardEnd,
            queueSeconds: queueSeconds)
    }

    /// The pass's output when it can be sampled from: the model returned, with one row of `vocabSize`
    /// logits per output row of `plan`. Otherwise fails every sequence of the batch and returns nil.
    private func usableOutput(_ forwarded: Result<ForwardOutput, any Error>, plan: SchedulePlan) -> ForwardOutput? {
        let wanted = plan.outputRowCount, vocab = model.vocabSize
        switch forwarded {
        case let .success(output) where output.rowCount == wanted && output.logits.count == wanted * vocab:
            return output
        case let .success(output):
            failBatch(plan, reason: "the model returned \(output.rowCount) output rows (\(output.logits.count) logits) for \(wanted) rows of \(vocab)")
        case let .failure(error):
            failBatch(plan, reason: String(describing: error))
        }
        return nil
    }

    /// Row i of a prompt chunk predicts prompt token `firstEntry + i + 1`: its logprob (raw logits) with
    /// the request's number of alternatives, for the positions not reported before. Returns the failure
    /// when a row is not finite (nothing of the chunk is reported then).
    private func reportPromptLogprobs(_ chunk: SchedulePlan.Chunk, firstRow: Int, output: ForwardOutput) -> EngineError? {
        let id = chunk.sequenceId
        guard let sequence = scheduler.sequence(id), let alternatives = sequence.request.promptLogprobs,
              var record = records[id] else { return nil }
        let prompt = sequence.request.promptTokenIds, vocab = model.vocabSize
        var logprobs: [TokenLogprob] = []
        var failure: EngineError?
        output.logits.withUnsafeBufferPointer { logits in
            for i in 0 ..< chunk.rowCount {
                let target = chunk.firstEntry + i + 1
                guard target < prompt.count, target > record.promptLogprobsReported else { continue }
                let row = UnsafeBufferPointer(rebasing: logits[(firstRow + i) * vocab ..< (firstRow + i + 1) * vocab])
                let nonFinite = SamplingMath.nonFiniteCount(row)
                guard nonFinite == 0 else {
                    failure = .nonFiniteLogits(requestId: id, nonFiniteCount: nonFinite, vocabSize: vocab)
                    return
                }
                logprobs.append(RequestSampler.logprob(of: Int(prompt[target]), logits: row, alternatives: alternatives))
                record.promptLogprobsReported = target
            }
        }
        if let failure { return failure }
        records[id] = record
        if !logprobs.isEmpty { outbox.append((record.onEvent, .promptLogprobs(logprobs))) }
        return nil
    }

    private func record(
        plan: SchedulePlan, generated: Int, blocksDuringPass: Int, start: UInt64, forwardStart: UInt64, forwardEnd: UInt64,
        queueSeconds: [Double]) {
        let end = clock()
        var report = IterationReport(
            index: stats.iterationsTotal,
            durationSeconds: Double(end &- start) / 1e9,
            forwardSeconds: Double(forwardEnd &- forwardStart) / 1e9,
            rowCount: plan.rowCount, prefillRowCount: plan.prefillRowCount, decodeRowCount: plan.decodeRowCount,
            sequenceCount: plan.chunks.count, generatedTokenCount: generated, preemptionCount: plan.preemptedIds.count,
            kvBlocksUsed: blocksDuringPass, runningCount: scheduler.runningCount, waitingCount: scheduler.waitingCount,
            kvEntriesUsed: scheduler.heldEntryCount)
        report.queueSeconds = queueSeconds
        stats.iterationsTotal += 1
        stats.generationTokensTotal += generated
        stats.prefillRowsTotal += report.prefillRowCount
        stats.decodeRowsTotal += report.decodeRowCount
        stats.iterationSeconds.observe(report.durationSeconds)
        stats.iterationRows.observe(Double(report.rowCount))
        for seconds in queueSeconds { stats.queueSeconds.observe(seconds) }
        stats.lastIteration = report
        observer?(report)
    }

    private func publishStats() {
        stats.runningCount = scheduler.runningCount
        stats.waitingCount = scheduler.waitingCount
        stats.kvBlocksUsed = scheduler.blocksInUse
        stats.kvBlocksUsedPeak = max(stats.kvBlocksUsedPeak, stats.kvBlocksUsed)
        stats.kvEntriesUsed = scheduler.heldEntryCount
        stats.preemptionsTotal = scheduler.preemptionCount
        stats.prefixCacheQueriesTotal = scheduler.prefixCacheQueriedTokens
        stats.prefixCacheHitsTotal = scheduler.prefixCacheHitTokens
        mailbox.publish(stats)
    }
}
