/// The weights of one Llama decoder layer (RMSNorm, attention, RMSNorm, SwiGLU feed-forward). The
/// base model has 30 of them; HAMburger's micro decoder has its own few of the same shapes, so both
/// run `forward(_:rows:positions:kv:...)`.
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

    public init(attentionNorm: [Float], query: LinearWeight, key: LinearWeight, value: LinearWeight, output: LinearWeight,
                ffnNorm: [Float], gate: LinearWeight, up: LinearWeight, down: LinearWeight) {
        self.attentionNorm = attentionNorm
        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.ffnNorm = ffnNorm
        self.gate = gate
        self.up = up
        self.down = down
    }
}

/// The shapes a decoder layer computes with (from the model file's hyperparameters).
public struct DecoderLayerShape: Sendable, Equatable {
    public var hiddenSize: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var intermediateSize: Int
    public var rmsEpsilon: Float

    public init(hiddenSize: Int, headCount: Int, kvHeadCount: Int, headDim: Int, intermediateSize: Int, rmsEpsilon: Float) {
        self.hiddenSize = hiddenSize
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.rmsEpsilon = rmsEpsilon
    }

    public init(_ hp: LlamaHyperparameters) {
        self.init(hiddenSize: hp.hiddenSize, headCount: hp.headCount, kvHeadCount: hp.kvHeadCount, headDim: hp.headDim,
                  intermediateSize: hp.intermediateSize, rmsEpsilon: hp.rmsEpsilon)
    }

    public var queryWidth: Int { headCount * headDim }
    public var kvWidth: Int { kvHeadCount * headDim }
}
