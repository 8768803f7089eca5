import GGUF
import Kernels

/// Every weight of the model, immutable after load and kept apart from run state (KV pages, scratch).
/// Q and K rows are in the GGUF layout (adjacent-pair RoPE). In `native` precision the quantized
/// matrices point into the memory-mapped file, which this value keeps open.
public struct LlamaWeights: Sendable {
    public let file: GGUFFile
    public let precision: WeightPrecision
    /// `token_embd.weight`, read a row at a time for embedding lookups.
    public let tokenEmbeddingInfo: GGUFTensorInfo
    public let layers: [LlamaLayerWeights]
    public let outputNorm: [Float]
    /// `[vocab][hidden]`: `output.weight`, or the tied token embedding.
    public let lmHead: LinearWeight

    /// Loads every tensor in `precision`, checking each shape against the hyperparameters.
    public init(file: GGUFFile, hyperparameters hp: LlamaHyperparameters, precision: WeightPrecision = .native,
                lmHeadPrecision: WeightPrecision? = nil) throws {
        self.file = file
        self.precision = precision
        func info(_ name: String, _ dims: [Int]) throws -> GGUFTensorInfo {
            guard let info = file.tensor(named: name) else { throw LlamaError.file(.missingTensor(name)) }
            guard info.dimensions == dims else { throw LlamaError.tensorShape(name: name, expected: dims, found: info.dimensions) }
            guard info.type.isDequantizable else { throw LlamaError.file(.unsupportedTensorType(name: name, type: info.type)) }
            return info
        }
        func vector(_ name: String, _ count: Int) throws -> [Float] {
            do { return try file.dequantize(try info(name, [count])) } catch let error as GGUFError { throw LlamaError.file(error) }
        }
        func matrix(_ name: String, out: Int, in inner: Int) throws -> LinearWeight {
            try LinearWeight.load(try info(name, [inner, out]), from: file, precision: precision)
        }
        let d = hp.hiddenSize, kv = hp.kvEntryWidth, ff = hp.intermediateSize
        tokenEmbeddingInfo = try info("token_embd.weight", [d, hp.vocabSize])
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
            ? try LinearWeight.load(try info("output.weight", [d, hp.vocabSize]), from: file, precision: lmHeadPrecision ?? precision, shortlisted: true)
            : try LinearWeight.load(tokenEmbeddingInfo, from: file, precision: lmHeadPrecision ?? precision, shortlisted: true)
    }

    /// Writes the embedding of `token` (exact, decoded from the file's row) into `output`.
    public func embed(token: Int32, into output: UnsafeMutablePointer<Float>) {
        let info = tokenEmbeddingInfo
        let rowBytes = info.rowLength / info.type.blockElementCount * info.type.blockByteCount
        let data = file.tensorData(info)
        GGMLDequantizer.dequantize(type: info.type, source: data.baseAddress! + Int(token) * rowBytes, count: info.rowLength, into: output)
    }

    /// Bytes of all linear-layer weights as kept in memory.
    public var linearByteCount: Int {
        layers.reduce(lmHead.byteCount) { total, l in
            total + [l.query, l.key, l.value, l.output, l.gate, l.up, l.down].reduce(0) { $0 + $1.byteCount }
        }
    }
}
