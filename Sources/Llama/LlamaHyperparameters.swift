import GGUF

/// What the model file says about the network's shape (never what the operator configured).
public struct LlamaHyperparameters: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var contextLength: Int
    public var ropeTheta: Float
    public var rmsEpsilon: Float
    public var bosTokenId: Int32?
    public var eosTokenId: Int32?

    /// Floats in one KV entry of one layer.
    public var kvEntryWidth: Int { kvHeadCount * headDim }

    public init(
        vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int, kvHeadCount: Int,
        contextLength: Int, ropeTheta: Float, rmsEpsilon: Float, bosTokenId: Int32? = nil, eosTokenId: Int32? = nil
    ) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = hiddenSize / max(headCount, 1)
        self.contextLength = contextLength
        self.ropeTheta = ropeTheta
        self.rmsEpsilon = rmsEpsilon
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
    }

    /// Reads the `llama.*` keys of a GGUF file.
    public init(file: GGUFFile) throws {
        guard file.architecture == "llama" else { throw LlamaError.unsupportedArchitecture(file.architecture) }
        do {
            let vocab = file.metadata["llama.vocab_size"]?.intValue
                ?? file.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count
                ?? 0
            self.init(
                vocabSize: vocab,
                hiddenSize: try file.requiredInt("llama.embedding_length"),
                intermediateSize: try file.requiredInt("llama.feed_forward_length"),
                layerCount: try file.requiredInt("llama.block_count"),
                headCount: try file.requiredInt("llama.attention.head_count"),
                kvHeadCount: try file.requiredInt("llama.attention.head_count_kv"),
                contextLength: try file.requiredInt("llama.context_length"),
                ropeTheta: Float((try? file.requiredDouble("llama.rope.freq_base")) ?? 10000),
                rmsEpsilon: Float(try file.requiredDouble("llama.attention.layer_norm_rms_epsilon")),
                bosTokenId: file.metadata["tokenizer.ggml.bos_token_id"]?.intValue.map(Int32.init),
                eosTokenId: file.metadata["tokenizer.ggml.eos_token_id"]?.intValue.map(Int32.init)
            )
        } catch let error as GGUFError {
            throw LlamaError.file(error)
        }
        guard vocabSize > 0, hiddenSize > 0, layerCount > 0, headCount > 0, kvHeadCount > 0,
              hiddenSize % headCount == 0, headCount % kvHeadCount == 0, headDim % 2 == 0, contextLength > 0
        else {
            throw LlamaError.invalidHyperparameters("vocab \(vocabSize), hidden \(hiddenSize), layers \(layerCount), heads \(headCount)/\(kvHeadCount), context \(contextLength)")
        }
    }
}
