extension Scheduler {
    /// Plans one iteration and reserves the KV blocks its rows need.
    ///
    /// 1. Running sequences, decode rows first, then prefill chunks (each group oldest admission first),
    ///    each taking `min(pending rows, budget left)` rows. When a chunk's blocks are not free: a
    ///    prefill chunk shrinks to what fits; otherwise the most recently admitted running sequence is
    ///    preempted (its blocks freed, its row dropped from the plan, requeued at the front), repeatedly,
    ///    until the blocks are free or the sequence itself is the most recent and is preempted.
    /// 2. If nobody was preempted: waiting sequences in order (preempted ones first), while the budget,
    ///    `maxSequenceCount` and the free blocks allow the first chunk of the head of the queue (FCFS:
    ///    no skipping ahead).
    public mutating func schedule() -> SchedulePlan {
        var plan = SchedulePlan()
        var budget = configuration.maxBatchedTokens
        let decoding = running.filter { sequences[$0]?.isPrefilling == false }
        let prefilling = running.filter { sequences[$0]?.isPrefilling == true }

        for id in decoding + prefilling {
            guard budget > 0 else { break }
            guard var sequence = sequences[id], sequence.status == .running else { continue }
            var rows = min(sequence.pendingEntryCount, budget)
            var reserved = false
            while !reserved {
                if reserve(&sequence, rows: rows) {
                    reserved = true
                    break
                }
                let fitting = sequence.blockTable.entriesFitting(freeBlocks: availableBlockCount)
                if sequence.isPrefilling && fitting > 0 {
                    rows = min(rows, fitting)
                    continue
                }
                guard let victim = running.last else { break }
                preempt(victim, plan: &plan, budget: &budget)
                if victim == id {
                    sequence = sequences[id] ?? sequence
                    break
                }
            }
            guard reserved else { continue }
            plan.chunks.append(chunk(of: sequence, rows: rows))
            sequences[id] = sequence
            budget -= rows
        }

        guard plan.preemptedIds.isEmpty else { return plan }
        while budget > 0, running.count < configuration.maxSequenceCount, let id = waiting.first,
              var sequence = sequences[id] {
            let cached = adoptCachedPrefix(&sequence)
            let rows = min(sequence.pendingEntryCount, budget)
            guard reserve(&sequence, rows: rows) else {
                releaseBlocks(of: &sequence)
                break
            }
            if prefixCache != nil {
                prefixCacheQueriedTokens += sequence.promptTokenCount
                prefixCacheHitTokens += cached
                if sequence.preemptionCount == 0 { sequence.cachedPromptTokenCount = cached }
            }
            waiting.removeFirst()
            sequence.status = .running
            sequence.admissionStamp = admissionCounter
            admissionCounter += 1
            running.append(id)
            plan.chunks.append(chunk(of: sequence, rows: rows))
            plan.admittedIds.append(id)
            sequences[id] = sequence
            budget -= rows
        }
        return plan
    }

    private func chunk(of sequence: GenerationSequence, rows: Int) -> SchedulePlan.Chunk {
        SchedulePlan.Chunk(
            sequenceId: sequence.id, firstEntry: sequence.entryCount, rowCount: rows,
            wantsOutput: sequence.entryCount + rows == sequence.entryInputs.count,
            isDecode: sequence.pendingEntryCount == 1 && sequence.entryCount > 0,
            outputsEveryRow: sequence.request.promptLogprobs != nil && sequence.entryCount < sequence.promptTokenCount)
    }

    /// Preemption by recompute: frees every block, drops any row already planned for the sequence
    /// (returning its budget), and puts it at the front of the queue with its tokens kept.
    private mutating func preempt(_ id: String, plan: inout SchedulePlan, budget: inout Int) {
        guard var sequence = sequences[id] else { return }
        releaseBlocks(of: &sequence)
        sequence.promptBlocksOffered = 0
        sequence.status = .preempted
        sequence.preemptionCount += 1
        sequences[id] = sequence
        running.removeAll { $0 == id }
        waiting.prepend(id)
        preemptionCount += 1
        plan.preemptedIds.append(id)
        if let index = plan.chunks.firstIndex(where: { $0.sequenceId == id }) {
            budget += plan.chunks[index].rowCount
            plan.chunks.remove(at: index)
        }
    }
}
