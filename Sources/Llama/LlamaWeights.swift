import GGUF

/// A linear layer's weight matrix `[outputWidth][inputWidth]` (GGUF's `[out][in]` row layout), in Float.
public struct LinearWeight: Sendable {
    public let outputWidth: Int
    public let inputWidth: Int
    public let values: [Float]
}

/// The weights of one decoder layer.
public struct LlamaLayerWeights: Sendable {
    public let attentionNorm: [Float]
    public let query: LinearWeight
    public let key: LinearWeight
    public let value: LinearWeight
    public let output: LinearWeight
    public let ffnNorm: [Float]
    public let gate: LinearWeight
    public let up: LinearWeight
    public let down: LinearWeight
}

/// Every weight of the model, immutable after load and kept apart from run state (KV pages, scratch).
/// Q and K rows are in the GGUF layout (adjacent-pair RoPE).
public struct LlamaWeights: Sendable {
    /// `[vocab][hidden]` token embeddings; also the LM head when the file has no `output.weight`.
    public let tokenEmbedding: LinearWeight
    public let layers: [LlamaLayerWeights]
    public let outputNorm: [Float]
    /// `[vocab][hidden]`: `output.weight`, or the tied embedding.
    public let lmHead: LinearWeight

    /// Loads and dequantizes every tensor, checking each shape against the hyperparameters.
    public init(file: GGUFFile, hyperparameters hp: LlamaHyperparameters) throws {
        func vector(_ name: String, _ count: Int) throws -> [Float] {
            let values = try load(name)
            guard values.count == count else { throw LlamaError.tensorShape(name: name, expected: [count], found: [values.count]) }
            return values
        }
        func load(_ name: String) throws -> [Float] {
            do { return try file.dequantize(named: name) } catch let error as GGUFError { throw LlamaError.file(error) }
        }
        func matrix(_ name: String, out: Int, in inner: Int) throws -> LinearWeight {
            guard let info = file.tensor(named: name) else { throw LlamaError.file(.missingTensor(name)) }
            guard info.dimensions == [inner, out] else { throw LlamaError.tensorShape(name: name, expected: [inner, out], found: info.dimensions) }
            return LinearWeight(outputWidth: out, inputWidth: inner, values: try load(name))
        }
        let d = hp.hiddenSize, kv = hp.kvEntryWidth, ff = hp.intermediateSize
        tokenEmbedding = try matrix("token_embd.weight", out: hp.vocabSize, in: d)
        layers = try (0..<hp.layerCount).map { i in
            let p = "blk.\(i)."
            return LlamaLayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", d),
                query: try matrix(p + "attn_q.weight", out: d, in: d),
                key: try matrix(p + "attn_k.weight", out: kv, in: d),
                value: try matrix(p + "attn_v.weight", out: kv, in: d),
                output: try matrix(p + "attn_output.weight", out: d, in: d),
                ffnNorm: try vector(p + "ffn_norm.weight", d),
                gate: try matrix(p + "ffn_gate.weight", out: ff, in: d),
                up: try matrix(p + "ffn_up.weight", out: ff, in: d),
                down: try matrix(p + "ffn_down.weight", out: d, in: ff)
            )
        }
        outputNorm = try vector("output_norm.weight", d)
        lmHead = file.tensor(named: "output.weight") != nil
            ? try matrix("output.weight", out: hp.vocabSize, in: d)
            : tokenEmbedding
    }
}
