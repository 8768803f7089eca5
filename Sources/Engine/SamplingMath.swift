import Foundation
import Kernels

/// The sampling math as pure functions over buffers (output-first where they write), so that each can
/// be tested against a naive reference. Token order conventions, relied on for reproducibility:
/// "most likely first" means by value descending, ties broken by lower token id; the final draw walks
/// the kept tokens in ascending token id.
public enum SamplingMath {
    /// `log(sum(exp(values)))`, computed stably (shifted by the maximum, summed in Double).
    public static func logSumExp(_ values: UnsafeBufferPointer<Float>) -> Float {
        guard !values.isEmpty else { return -.infinity }
        let maximum = values[Kernels.argmax(values)]
        guard maximum.isFinite else { return maximum }
        var sum = 0.0
        for value in values { sum += Foundation.exp(Double(value - maximum)) }
        return maximum + Float(Foundation.log(sum))
    }

    /// How many of `values` are NaN or infinite. The engine samples only from rows where this is 0: a
    /// NaN compares false with everything, so argmax and top-k would quietly pick around it (or pick
    /// token 0), and a model's LM head yields no infinity from finite activations.
    public static func nonFiniteCount(_ values: UnsafeBufferPointer<Float>) -> Int {
        var count = 0
        for value in values where !value.isFinite { count += 1 }
        return count
    }

    /// `output[i] = exp(logits[i] / temperature) / sum`, the softmax at `temperature` (> 0).
    /// Shapes: output and logits both `[vocab]`.
    public static func softmax(_ output: UnsafeMutableBufferPointer<Float>, logits: UnsafeBufferPointer<Float>, temperature: Float) {
        guard !logits.isEmpty else { return }
        let inverse = 1 / temperature
        let maximum = logits[Kernels.argmax(logits)]
        var sum = 0.0
        for index in logits.indices {
            let value = Foundation.exp((logits[index] - maximum) * inverse)
            output[index] = value
            sum += Double(value)
        }
        let scale = Float(1 / sum)
        for index in logits.indices { output[index] *= scale }
    }

    /// The `count` largest values' indices, most likely first (ties: lower index first). Selection
    /// with a bounded heap: O(n log count), no full sort.
    public static func topIndices(_ values: UnsafeBufferPointer<Float>, count: Int) -> [Int] {
        let k = min(max(0, count), values.count)
        guard k > 0 else { return [] }
        // `ranksAbove(a, b)`: a is more likely than b.
        func ranksAbove(_ a: Int, _ b: Int) -> Bool {
            values[a] > values[b] || (values[a] == values[b] && a < b)
        }
        // Min-heap on rank: the root is the least likely of the kept.
        var heap: [Int] = []
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { return }
                var child = left
                if left + 1 < heap.count && ranksAbove(heap[left], heap[left + 1]) { child = left + 1 }
                guard ranksAbove(heap[parent], heap[child]) else { return }
                heap.swapAt(parent, child)
                parent = child
            }
        }
        for index in values.indices {
            if heap.count < k {
                heap.append(index)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard ranksAbove(heap[parent], heap[child]) else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
            } else if ranksAbove(index, heap[0]) {
                heap[0] = index
                siftDown(0)
            }
        }
        return heap.sorted(by: ranksAbove)
    }

    /// Penalties on `logits` in place (vLLM semantics): first the repetition penalty on every token in
    /// `seenTokens` (prompt and output: a positive logit is divided by `repetition`, a negative one
    /// multiplied), then `frequency * count` and `presence` (once) subtracted for every generated token.
    public static func applyPenalties(
        _ logits: UnsafeMutableBufferPointer<Float>, outputCounts: [Int32: Int], seenTokens: Set<Int32>,
        presence: Float, frequency: Float, repetition: Float
    ) {
        if repetition != 1 {
            for token in seenTokens where token >= 0 && Int(token) < logits.count {
                let value = logits[Int(token)]
                logits[Int(token)] = value > 0 ? value / repetition : value * repetition
            }
        }
        if presence != 0 || frequency != 0 {
            for (token, count) in outputCounts where token >= 0 && Int(token) < logits.count && count > 0 {
                logits[Int(token)] -= frequency * Float(count) + presence
            }
        }
    }

    /// The tokens that survive top-k, then top-p (relative to the mass of the top-k survivors), then
    /// min-p (relative to the most likely token), in ascending token id. Nil when no filter is active
    /// (every token stays). `probabilities` is a softmax, `[vocab]`.
    public static func keptTokens(probabilities: UnsafeBufferPointer<Float>, topK: Int, topP: Float, minP: Float) -> [Int]? {
        let vocab = probabilities.count
        let usesTopK = topK > 0 && topK < vocab
        let usesTopP = topP < 1
        guard usesTopK || usesTopP || minP > 0 else { return nil }
        guard vocab > 0 else { return [] }

        var kept: [Int]
        if usesTopK || usesTopP {
            let setSize = usesTopK ? topK : vocab
            var mass = 0.0
            if usesTopK {
                kept = topIndices(probabilities, count: setSize)
                for index in kept { mass += Double(probabilities[index]) }
            } else {
                kept = []
                for probability in probabilities { mass += Double(probability) }
            }
            if usesTopP {
                // Widen the sorted prefix until it holds topP of the mass (usually a few dozen tokens).
                var width = usesTopK ? setSize : min(vocab, 64)
                while true {
                    if !usesTopK { kept = topIndices(probabilities, count: width) }
                    let target = Double(topP) * mass
                    var cumulative = 0.0
                    var cut: Int?
                    for (rank, index) in kept.enumerated() {
                        cumulative += Double(probabilities[index])
                        if cumulative >= target {
                            cut = rank + 1
                            break
                        }
                    }
                    if let cut {
                        kept.removeSubrange(cut...)
                        break
                    }
                    if usesTopK || width >= vocab { break }
                    width = min(vocab, width * 8)
                }
            }
        } else {
            kept = Array(0 ..< vocab)
        }
        if minP > 0, !kept.isEmpty {
            var top = -Float.infinity
            for index in kept { top = max(top, probabilities[index]) }
            let threshold = minP * top
            kept.removeAll { probabilities[$0] < threshold }
        }
        kept.sort()
        return kept
    }

    /// One draw: walks `kept` (ascending ids; nil = every token) accumulating probabilities and returns
    /// the first token whose running sum passes `uniform * total`. `uniform` in [0, 1).
    public static func draw(probabilities: UnsafeBufferPointer<Float>, kept: [Int]?, uniform: Double) -> Int {
        var total = 0.0
        if let kept {
            for index in kept { total += Double(probabilities[index]) }
        } else {
            for probability in probabilities { total += Double(probability) }
        }
        let target = uniform * total
        var cumulative = 0.0
        var last = 0
        func visit(_ index: Int) -> Bool {
            let probability = Double(probabilities[index])
            guard probability > 0 else { return false }
            cumulative += probability
            last = index
            return cumulative > target
        }
        if let kept {
            for index in kept where visit(index) { return index }
        } else {
            for index in probabilities.indices where visit(index) { return index }
        }
        return last
    }
}
