import Kernels
import Llama

/// The micro-step decoder's weights: `L_mu` Llama decoder layers of the base's shapes (Q/K rows in
/// the GGUF layout, so the base's adjacent-pair RoPE applies; Float products) and the final
/// RMSNorm_mu. They run through the base's own decoder-layer function; run state lives in
/// `MicroStepBatch`, one per macro step.
public struct MicroDecoder: Sendable {
    public let layers: [LlamaLayerWeights]
    public let outputNorm: [Float]
    public let shape: DecoderLayerShape
    public let rope: RoPE

    public init(layers: [LlamaLayerWeights], outputNorm: [Float], shape: DecoderLayerShape, ropeTheta: Float) {
        self.layers = layers
        self.outputNorm = outputNorm
        self.shape = shape
        rope = RoPE(headDim: shape.headDim, theta: ropeTheta)
    }

    public var hiddenSize: Int { shape.hiddenSize }
    public var kvWidth: Int { shape.kvWidth }
}
