import Foundation
import Hamburger
import Llama

/// A HAMburger sequence's output row in this iteration, and what ends its macro step.
struct MacroRow {
    var id: String
    /// Its row in `ForwardOutput` (features, final normed state).
    var outputRow: Int
    /// Ends the step after token i when `1 - s_i < threshold`.
    var threshold: Double
    /// Tokens the request may still generate (max_tokens minus those already generated).
    var remaining: Int
    var stopTokenIds: Set<Int32>
}

extension EngineLoop {
    /// The confidence as a Double with the value it was written with (0.9 stays 0.9, not
    /// 0.89999997615814...), so that `1 - s < confidence` decides as the Python reference does.
    static func threshold(_ confidence: Float) -> Double {
        Double("\(confidence)") ?? Double(confidence)
    }

    /// The micro loop of one macro step (HAMBURGER.md steps 3-6) for every HAMburger row of the pass:
    /// token 1 is already in `tokens` (sampled from the base's logits); `s_1` comes from the stop head
    /// on the final normed state; then micro iteration i = 2..K runs the micro decoder, LM head and
    /// stop head over the sequences still open (one GEMM per weight over their rows) and samples token
    /// i for each with its request's sampler. A sequence's step ends after token i at a stop token / EOS,
    /// at max_tokens, at i = K, or when `1 - s_i < confidence`.
    func runMicroSteps(_ rows: [MacroRow], output: ForwardOutput, tokens: inout [String: [Int32]], logprobs: inout [String: [TokenLogprob]]) {
        guard let hamburger else { return }
        let d = hamburger.hiddenSize, vocab = hamburger.vocabSize, K = hamburger.maxSteps
        let layerFeatures = hamburger.featureLayers.count

        func closes(_ row: MacroRow, _ group: [Int32]) -> Bool {
            guard let last = group.last else { return true }
            return row.stopTokenIds.contains(last) || group.count >= row.remaining || group.count >= K
        }

        // Token 1: still open unless it ended the step; then s_1 = stop(final normed state).
        var open: [MacroRow] = []
        let first = rows.filter { row in tokens[row.id].map { !closes(row, $0) } ?? false }
        if !first.isEmpty {
            var finals = [Float](repeating: 0, count: first.count * d)
            for (i, row) in first.enumerated() {
                finals.replaceSubrange(i * d ..< (i + 1) * d, with: output.finalNormed[row.outputRow * d ..< (row.outputRow + 1) * d])
            }
            let stops = hamburger.stopProbabilities(finals, rowCount: first.count)
            for (i, row) in first.enumerated() where !(1 - Double(stops[i]) < row.threshold) { open.append(row) }
        }
        guard !open.isEmpty else { return }

        // Prefix features [open][F][d]: the chosen layers' outputs, then the final normed state.
        var prefix = [Float](repeating: 0, count: open.count * (layerFeatures + 1) * d)
        for (j, row) in open.enumerated() {
            let base = j * (layerFeatures + 1) * d
            let source = row.outputRow * layerFeatures * d
            prefix.replaceSubrange(base ..< base + layerFeatures * d, with: output.features[source ..< source + layerFeatures * d])
            prefix.replaceSubrange(base + layerFeatures * d ..< base + (layerFeatures + 1) * d,
                                   with: output.finalNormed[row.outputRow * d ..< (row.outputRow + 1) * d])
        }
        let batch = hamburger.beginMicroSteps(prefix: prefix, sequenceCount: open.count)
        var active = Array(open.indices)
        while !active.isEmpty {
            let fed = active.map { tokens[open[$0].id]?.last ?? 0 }
            let (logits, stops) = hamburger.microStep(batch, sequences: active, tokens: fed)
            var next: [Int] = []
            logits.withUnsafeBufferPointer { all in
                for (i, j) in active.enumerated() {
                    let row = open[j]
                    guard var sampler = samplers.removeValue(forKey: row.id) else { continue }
                    let sampled = sampler.sample(logits: UnsafeBufferPointer(rebasing: all[i * vocab ..< (i + 1) * vocab]), scratch: &scratch)
                    samplers[row.id] = sampler
                    tokens[row.id, default: []].append(sampled.tokenId)
                    if let logprob = sampled.logprob { logprobs[row.id, default: []].append(logprob) }
                    let group = tokens[row.id] ?? []
                    if closes(row, group) || 1 - Double(stops[i]) < row.threshold { continue }
                    next.append(j)
                }
            }
            active = next
        }
    }
}
