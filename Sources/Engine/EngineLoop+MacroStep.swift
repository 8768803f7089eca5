import Hamburger
import Llama
import StructuredOutput

extension EngineLoop {
    /// Completes the macro steps of this pass's HAMburger rows through the adapter's micro loop, picking
    /// every micro token with its request's sampler (greedy, or sampled with the request's settings).
    /// `tokens[id]` holds token 1 on entry and the whole group on return; `logprobs[id]` gets one
    /// entry per token kept (a dropped micro token's is discarded). A constrained request's group also
    /// ends where its automaton leaves at most one continuation, and a dropped micro token's automaton
    /// step is undone. A micro step whose logits are not finite is not sampled: the row's request lands
    /// in `failures` (the caller ends it; its group is never taken in).
    func runMicroSteps(_ rows: [(id: String, row: MacroStepRow)], output: ForwardOutput,
                       tokens: inout [String: [Int32]], logprobs: inout [String: [TokenLogprob]],
                       failures: inout [String: EngineError]) {
        guard let hamburger, !rows.isEmpty else { return }
        var picks = [Int](repeating: 0, count: rows.count)
        var stateBeforeLastPick: [GrammarState?] = Array(repeating: nil, count: rows.count)
        let groups = hamburger.completeMacroSteps(rows.map(\.row), output: output, forced: { r in
            constraintIsForced(rows[r].id)
        }) { r, logits in
            let id = rows[r].id
            let nonFinite = SamplingMath.nonFiniteCount(logits)
            guard nonFinite == 0, failures[id] == nil else {
                if failures[id] == nil { failures[id] = .nonFiniteLogits(requestId: id, nonFiniteCount: nonFinite, vocabSize: logits.count) }
                return rows[r].row.firstToken
            }
            stateBeforeLastPick[r] = grammarState(id)
            picks[r] += 1
            guard let sampled = sample(id, logits: logits) else { return rows[r].row.firstToken }
            if let logprob = sampled.logprob { logprobs[id, default: []].append(logprob) }
            return sampled.tokenId
        }
        for (r, ((id, _), group)) in zip(rows, groups).enumerated() {
            tokens[id] = group
            if let kept = logprobs[id], kept.count > group.count { logprobs[id] = Array(kept.prefix(group.count)) }
            if picks[r] + 1 > group.count, let state = stateBeforeLastPick[r] { restoreGrammarState(id, state) }
        }
    }
}
