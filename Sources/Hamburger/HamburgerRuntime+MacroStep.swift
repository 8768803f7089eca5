import Foundation
import Llama

/// One HAMburger sequence's output row of a base pass, and what ends its macro step.
public struct MacroStepRow: Sendable {
    /// Its row in the pass's `ForwardOutput` (features, final normed state).
    public var outputRow: Int
    /// Token 1, chosen by the caller from the base's own logits.
    public var firstToken: Int32
    /// Ends the step after token i when `1 - s_i < threshold` (the confidence).
    public var threshold: Double
    /// Drops micro token i >= 2, ending the step before it, when the micro decoder's softmax probability
    /// of it is below this floor (0: never).
    public var minProbability: Double
    /// Tokens the request may still generate (max_tokens minus those already generated).
    public var remaining: Int
    public var stopTokenIds: Set<Int32>

    /// `confidence` and `minProbability` are taken with the decimal value they were written with (0.9
    /// stays 0.9, not 0.89999997615814...), so that the comparisons decide as the Python reference does.
    public init(outputRow: Int, firstToken: Int32, confidence: Float, minProbability: Float, remaining: Int, stopTokenIds: Set<Int32>) {
        self.outputRow = outputRow
        self.firstToken = firstToken
        threshold = Self.decimal(confidence)
        self.minProbability = Self.decimal(minProbability)
        self.remaining = remaining
        self.stopTokenIds = stopTokenIds
    }

    static func decimal(_ value: Float) -> Double { Double("\(value)") ?? Double(value) }

    /// Whether `group` must end here whatever the stop head says: a stop token, max_tokens, or K tokens.
    func closes(_ group: [Int32], maxSteps: Int) -> Bool {
        guard let last = group.last else { return true }
        return stopTokenIds.contains(last) || group.count >= remaining || group.count >= maxSteps
    }
}

extension HamburgerRuntime {
    /// The micro loop of one macro step (HAMBURGER.md steps 3-6) for every HAMburger row of a base pass:
    /// `s_1` comes from the stop head on the final normed state; then micro iteration i = 2..K runs the
    /// micro decoder, LM head and stop head over the sequences still open (one product per weight over
    /// their rows), and `pick(row, logits)` chooses token i of `rows[row]` from its logits (the
    /// engine's sampler). A step ends after token i at a stop token, at max_tokens, at i = K, or when
    /// `1 - s_i < confidence`, or where `forced(row)` says the caller's output constraint leaves at most
    /// one continuation; a micro token whose probability is below the row's floor is dropped and
    /// ends the step before it. Returns each row's group (token 1 first), in the order of `rows`.
    public func completeMacroSteps(_ rows: [MacroStepRow], output: ForwardOutput,
                                   forced: (_ row: Int) -> Bool = { _ in false },
                                   pick: (_ row: Int, _ logits: UnsafeBufferPointer<Float>) -> Int32) -> [[Int32]] {
        let d = hiddenSize, vocab = vocabSize, K = maxSteps
        let layerFeatures = featureLayers.count
        var groups = rows.map { [$0.firstToken] }

        // Token 1: still open unless it ended the step; then s_1 = stop(final normed state).
        var open: [Int] = []
        let first = rows.indices.filter { !rows[$0].closes(groups[$0], maxSteps: K) && !forced($0) }
        if !first.isEmpty {
            var finals = [Float](repeating: 0, count: first.count * d)
            for (i, r) in first.enumerated() {
                let source = rows[r].outputRow * d
                finals.replaceSubrange(i * d ..< (i + 1) * d, with: output.finalNormed[source ..< source + d])
            }
            let stops = stopProbabilities(finals, rowCount: first.count)
            for (i, r) in first.enumerated() where !(1 - Double(stops[i]) < rows[r].threshold) { open.append(r) }
        }
        guard !open.isEmpty else { return groups }

        // Prefix features [open][F][d]: the chosen layers' outputs, then the final normed state.
        var prefix = [Float](repeating: 0, count: open.count * (layerFeatures + 1) * d)
        for (j, r) in open.enumerated() {
            let start = j * (layerFeatures + 1) * d, row = rows[r].outputRow
            let source = row * layerFeatures * d
            prefix.replaceSubrange(start ..< start + layerFeatures * d, with: output.features[source ..< source + layerFeatures * d])
            prefix.replaceSubrange(start + layerFeatures * d ..< start + (layerFeatures + 1) * d,
                                   with: output.finalNormed[row * d ..< (row + 1) * d])
        }
        let batch = beginMicroSteps(prefix: prefix, sequenceCount: open.count)
        var active = Array(open.indices)
        while !active.isEmpty {
            let fed = active.map { groups[open[$0]].last! }
            let (logits, stops) = microStep(batch, sequences: active, tokens: fed)
            var next: [Int] = []
            logits.withUnsafeBufferPointer { all in
                for (i, j) in active.enumerated() {
                    let r = open[j], row = rows[r]
                    let rowLogits = UnsafeBufferPointer(rebasing: all[i * vocab ..< (i + 1) * vocab])
                    let token = pick(r, rowLogits)
                    if row.minProbability > 0, Self.probability(of: token, in: rowLogits) < row.minProbability { continue }
                    groups[r].append(token)
                    if row.closes(groups[r], maxSteps: K) || 1 - Double(stops[i]) < row.threshold || forced(r) { continue }
                    next.append(j)
                }
            }
            active = next
        }
        return groups
    }

    /// `softmax(logits)[token]` at temperature 1 over the whole vocabulary.
    static func probability(of token: Int32, in logits: UnsafeBufferPointer<Float>) -> Double {
        guard let top = logits.max(), top.isFinite else { return 0 }
        var sum: Double = 0
        for value in logits { sum += Double(expf(value - top)) }
        return Double(expf(logits[Int(token)] - top)) / sum
    }
}
