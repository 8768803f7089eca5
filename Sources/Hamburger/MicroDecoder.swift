import Kernels

/// The micro-step decoder's weights: `L_mu` Llama decoder layers of the base's shapes (Q/K rows in
/// the GGUF layout, so the base's adjacent-pair RoPE applies) and the final RMSNorm_mu. Run state lives
/// in `MicroStepBatch`, one per macro step.
public struct MicroDecoder: Sendable {
    /// One layer, matrices `[out][in]` row-major in Float.
    public struct Layer: Sendable {
        public var attentionNorm: [Float]
        public var query: [Float]
        public var key: [Float]
        public var value: [Float]
        public var output: [Float]
        public var ffnNorm: [Float]
        public var gate: [Float]
        public var up: [Float]
        public var down: [Float]

        public init(attentionNorm: [Float], query: [Float], key: [Float], value: [Float], output: [Float],
                    ffnNorm: [Float], gate: [Float], up: [Float], down: [Float]) {
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

    public let layers: [Layer]
    public let outputNorm: [Float]
    public let hiddenSize: Int
    public let headCount: Int
    public let kvHeadCount: Int
    public let headDim: Int
    public let intermediateSize: Int
    public let rmsEpsilon: Float
    public let rope: RoPE

    public init(layers: [Layer], outputNorm: [Float], hiddenSize: Int, headCount: Int, kvHeadCount: Int,
                headDim: Int, intermediateSize: Int, rmsEpsilon: Float, ropeTheta: Float) {
        self.layers = layers
        self.outputNorm = outputNorm
        self.hiddenSize = hiddenSize
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.rmsEpsilon = rmsEpsilon
        rope = RoPE(headDim: headDim, theta: ropeTheta)
    }

    public var kvWidth: Int { kvHeadCount * headDim }
}
