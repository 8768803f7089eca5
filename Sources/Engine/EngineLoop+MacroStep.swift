import Hamburger
import Llama

extension EngineLoop {
    /// Completes the macro steps of this pass's HAMburger rows through the adapter's micro loop, picking
    /// every micro token with its request's sampler (greedy, or sampled with the request's settings).
    /// `tokens[id]` holds token 1 on entry and the whole group on return; `logprobs[id]` gets one
    /// entry per token kept (a dropped micro token's is discarded).
    func runMicroSteps(_ rows: [(id: String, row: MacroStepRow)], output: ForwardOutput,
                       tokens: inout [String: [Int32]], logprobs: inout [String: [TokenLogprob]]) {
        guard let hamburger, !rows.isEmpty else { return }
        let groups = hamburger.completeMacroSteps(rows.map(\.row), output: output) { r, logits in
            let id = rows[r].id
            guard let sampled = sample(id, logits: logits) else { return rows[r].row.firstToken }
            if let logprob = sampled.logprob { logprobs[id, default: []].append(logprob) }
            return sampled.tokenId
        }
        for ((id, _), group) in zip(rows, groups) {
            tokens[id] = group
            if let kept = logprobs[id], kept.count > group.count { logprobs[id] = Array(kept.prefix(group.count)) }
        }
    }
}
