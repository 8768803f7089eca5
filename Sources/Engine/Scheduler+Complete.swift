/// What one iteration did to one sequence that produced output: the tokens to emit and, when it
/// ended, why. Tokens after a cut (stop token, max_tokens) are dropped, never emitted.
public struct SequenceAdvance: Sendable, Equatable {
    public var sequenceId: String
    /// Tokens to hand to the caller, in order (a stop token is never among them).
    public var emittedTokenIds: [Int32]
    /// Sampled tokens taken into the sequence (emitted ones plus a final stop token); the sampler's
    /// per-token extras (logprobs) for the first `emittedTokenIds.count` of them go with the event.
    public var acceptedTokenCount: Int
    /// Set when the sequence ended in this iteration.
    public var finishReason: FinishReason?
    public var promptTokenCount: Int
    /// Prompt tokens whose KV entries came from the prefix cache.
    public var cachedPromptTokenCount: Int = 0
    /// Generated tokens so far, a final stop token included.
    public var completionTokenCount: Int
}

extension Scheduler {
    /// Takes in the result of the pass planned by `plan`: every chunk's rows count as written entries;
    /// for each output chunk the tokens sampled from its last row (`sampledTokens[id]`, one token in
    /// autoregressive mode, a group with HAMburger) are appended up to the first stop token or
    /// `maxTokens`. A sequence that ends frees its blocks at once. Sequences cancelled since `schedule`
    /// are skipped.
    public mutating func complete(_ plan: SchedulePlan, sampledTokens: [String: [Int32]]) -> [SequenceAdvance] {
        var advances: [SequenceAdvance] = []
        for chunk in plan.chunks {
            // Taken out and put back so that appending does not copy the sequence's arrays.
            guard var sequence = sequences.removeValue(forKey: chunk.sequenceId) else { continue }
            guard sequence.status == .running, sequence.entryCount == chunk.firstEntry else {
                sequences[chunk.sequenceId] = sequence
                continue
            }
            do {
                try sequence.blockTable.commit(chunk.rowCount)
            } catch {
                assertionFailure("a planned chunk outgrew its reserved blocks: \(error)")
            }
            offerPromptBlocks(&sequence)
            guard chunk.wantsOutput, let tokens = sampledTokens[chunk.sequenceId], !tokens.isEmpty else {
                sequences[chunk.sequenceId] = sequence
                continue
            }
            advances.append(append(tokens, to: &sequence))
            if sequence.status.isFinished {
                releaseBlocks(of: &sequence)
                running.removeAll { $0 == chunk.sequenceId }
            } else {
                sequences[chunk.sequenceId] = sequence
            }
        }
        return advances
    }

    private func append(_ tokens: [Int32], to sequence: inout GenerationSequence) -> SequenceAdvance {
        var emitted: [Int32] = []
        var accepted = 0
        var finish: FinishReason?
        for token in tokens {
            sequence.outputTokenIds.append(token)
            accepted += 1
            if sequence.stopTokenIds.contains(token) {
                finish = .stop
                break
            }
            emitted.append(token)
            if sequence.remainingTokenCount == 0 {
                finish = .length
                break
            }
        }
        if let finish {
            sequence.status = .finished(finish)
        } else {
            let group = Array(tokens.prefix(accepted))
            sequence.entryInputs.append(group.count == 1 ? .token(group[0]) : .mergedGroup(group))
            sequence.entryPositions.append(sequence.ropePosition + Int32(group.count))
        }
        return SequenceAdvance(
            sequenceId: sequence.id, emittedTokenIds: emitted, acceptedTokenCount: accepted, finishReason: finish,
            promptTokenCount: sequence.promptTokenCount, cachedPromptTokenCount: sequence.cachedPromptTokenCount,
            completionTokenCount: sequence.outputTokenIds.count)
    }
}
