import Foundation
import Kernels
import Llama

/// HAMburger's compositional embedder `C(t_1..t_k)`: one input vector for a group of k tokens.
/// k = 1 is the plain embedding `E[t]`; k > 1 is `m + W_out · Attn(W_q m; W_k [e_i; P_i], W_v [e_i; P_i])`
/// with `m` the mean of the group's embeddings and one query attending over the k keys per head.
/// Batched over groups: one GEMM per weight over every group (queries) or every token (keys, values).
public struct CompositionalEmbedder: Sendable {
    public let width: Int
    public let headCount: Int
    public let headDim: Int
    /// K: the longest group.
    public let maxSteps: Int
    /// `[K][width/2]` position vectors.
    let positions: [Float]
    /// `W_q`, `W_out` `[width][width]`; `W_k`, `W_v` `[width][width + width/2]`.
    let query: LinearWeight, key: LinearWeight, value: LinearWeight, output: LinearWeight

    public init(width: Int, headCount: Int, headDim: Int, maxSteps: Int, positions: [Float],
                wq: LinearWeight, wk: LinearWeight, wv: LinearWeight, wout: LinearWeight) {
        self.width = width
        self.headCount = headCount
        self.headDim = headDim
        self.maxSteps = maxSteps
        self.positions = positions
        query = wq
        key = wk
        value = wv
        output = wout
    }

    /// Float matrices, row-major.
    public init(width: Int, headCount: Int, headDim: Int, maxSteps: Int, positions: [Float],
                wq: [Float], wk: [Float], wv: [Float], wout: [Float]) {
        let keyWidth = width + width / 2
        self.init(width: width, headCount: headCount, headDim: headDim, maxSteps: maxSteps, positions: positions,
                  wq: .float(wq, outputWidth: width, inputWidth: width), wk: .float(wk, outputWidth: width, inputWidth: keyWidth),
                  wv: .float(wv, outputWidth: width, inputWidth: keyWidth), wout: .float(wout, outputWidth: width, inputWidth: width))
    }

    /// One `[width]` vector per group (each of 1 ... K tokens); `embed(token, into)` writes `E[token]`.
    public func merge(_ groups: [[Int32]], pool: ThreadPool? = nil, embed: (Int32, UnsafeMutablePointer<Float>) -> Void) -> [[Float]] {
        let d = width, half = width / 2, keyWidth = width + width / 2
        var results = [[Float]](repeating: [], count: groups.count)
        let merged = groups.indices.filter { groups[$0].count > 1 }
        for g in groups.indices where groups[g].count == 1 {
            var e = [Float](repeating: 0, count: d)
            e.withUnsafeMutableBufferPointer { embed(groups[g][0], $0.baseAddress!) }
            results[g] = e
        }
        guard !merged.isEmpty else { return results }

        // Embeddings, means, and the [e_i; P_i] rows of every merged group.
        let n = merged.count
        let tokenCount = merged.reduce(0) { $0 + groups[$1].count }
        var means = [Float](repeating: 0, count: n * d)
        var keyInputs = [Float](repeating: 0, count: tokenCount * keyWidth)
        var e = [Float](repeating: 0, count: d)
        var row = 0
        for (j, g) in merged.enumerated() {
            let group = groups[g]
            for (i, token) in group.enumerated() {
                e.withUnsafeMutableBufferPointer { embed(token, $0.baseAddress!) }
                for c in 0..<d { means[j * d + c] += e[c] }
                keyInputs.replaceSubrange(row * keyWidth ..< row * keyWidth + d, with: e)
                keyInputs.replaceSubrange(row * keyWidth + d ..< (row + 1) * keyWidth, with: positions[i * half ..< (i + 1) * half])
                row += 1
            }
            let scale = Float(group.count)
            for c in 0..<d { means[j * d + c] /= scale }
        }
        let queries = query.apply(means, rows: n, pool: pool)
        let keys = key.apply(keyInputs, rows: tokenCount, pool: pool)
        let values = value.apply(keyInputs, rows: tokenCount, pool: pool)

        // One query per group and head over the group's keys.
        var attended = [Float](repeating: 0, count: n * d)
        var scores = [Float](repeating: 0, count: maxSteps)
        let scale = 1 / Float(headDim).squareRoot()
        row = 0
        for (j, g) in merged.enumerated() {
            let k = groups[g].count
            for h in 0..<headCount {
                let q = j * d + h * headDim
                for i in 0..<k {
                    var dot: Float = 0
                    for c in 0..<headDim { dot += queries[q + c] * keys[(row + i) * d + h * headDim + c] }
                    scores[i] = dot * scale
                }
                scores.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, count: k) }
                for i in 0..<k {
                    let p = scores[i]
                    for c in 0..<headDim { attended[q + c] += p * values[(row + i) * d + h * headDim + c] }
                }
            }
            row += k
        }
        let projected = output.apply(attended, rows: n, pool: pool)
        for (j, g) in merged.enumerated() {
            results[g] = (0..<d).map { means[j * d + $0] + projected[j * d + $0] }
        }
        return results
    }
}
