import Kernels

/// Low-rank deltas on the base's linear layers that apply ONLY to rows flagged as merged
/// (`ForwardBatch.mergedRows`): HAMburger's merge-only LoRA. A prompt token or a single-token step runs
/// the untouched base, so the base stays exact wherever nothing was merged.
///
/// For a flagged row, a target projection `y = W x` becomes `y = W x + scaling · B (A x)` with `A`
/// `[rank][inputWidth]` and `B` `[outputWidth][rank]`, both row-major like GGUF matrices. The B rows
/// of `attnQuery` / `attnKey` are in the GGUF (adjacent-pair RoPE) layout, like the base's own Q/K.
public final class LoRAAdapter: Sendable {
    /// The projections a delta may target, named as in the adapter file.
    public enum Target: String, Sendable, CaseIterable, Hashable {
        case attnQuery = "attn_q"
        case attnKey = "attn_k"
        case attnValue = "attn_v"
        case attnOutput = "attn_output"
        case ffnGate = "ffn_gate"
        case ffnUp = "ffn_up"
        case ffnDown = "ffn_down"
    }

    /// One delta: `A` `[rank][inputWidth]`, `B` `[outputWidth][rank]` (Float or half-precision products).
    public struct Delta: Sendable {
        public let rank: Int
        public let inputWidth: Int
        public let outputWidth: Int
        public let a: LinearWeight
        public let b: LinearWeight

        public init(a: LinearWeight, b: LinearWeight) {
            precondition(a.outputWidth == b.inputWidth, "LoRA delta shapes checked by the loader")
            rank = a.outputWidth
            inputWidth = a.inputWidth
            outputWidth = b.outputWidth
            self.a = a
            self.b = b
        }

        public init(rank: Int, inputWidth: Int, outputWidth: Int, a: [Float], b: [Float]) {
            self.init(a: .float(a, outputWidth: rank, inputWidth: inputWidth), b: .float(b, outputWidth: outputWidth, inputWidth: rank))
        }
    }

    /// `scaling` = alpha / rank.
    public let scaling: Float
    /// Per base layer, the deltas of that layer by target (empty for a layer without deltas).
    public let layers: [[Target: Delta]]

    public init(scaling: Float, layers: [[Target: Delta]]) {
        self.scaling = scaling
        self.layers = layers
    }

    /// Adds `scaling · B (A x)` of `target` in `layer` to `output[row]` for each of `rows`, with `x` =
    /// `input[row]` (`input` is `[*][inputWidth]`, `output` `[*][outputWidth]`). One GEMM per matrix
    /// over the gathered rows.
    public func addDelta(
        _ target: Target, layer: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: [Int]
    ) {
        guard !rows.isEmpty, layer < layers.count, let delta = layers[layer][target] else { return }
        let m = rows.count, inner = delta.inputWidth, out = delta.outputWidth
        var gathered = [Float](repeating: 0, count: m * inner)
        gathered.withUnsafeMutableBufferPointer { g in
            for (i, r) in rows.enumerated() { (g.baseAddress! + i * inner).update(from: input + r * inner, count: inner) }
        }
        let high = delta.b.apply(delta.a.apply(gathered, rows: m, pool: nil), rows: m, pool: nil)
        for (i, r) in rows.enumerated() {
            let y = output + r * out
            for j in 0..<out { y[j] += scaling * high[i * out + j] }
        }
    }
}
