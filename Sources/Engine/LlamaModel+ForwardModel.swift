import Hamburger
import Llama

/// The real base model drives the engine directly: its geometry and stop token come from the GGUF
/// hyperparameters, `forward` is the model's own batched pass.
extension LlamaModel: ForwardModel {
    public var kvLayerCount: Int { hyperparameters.layerCount }
    public var kvEntryWidth: Int { hyperparameters.kvEntryWidth }
    public var kvHeadDim: Int { hyperparameters.headDim }
    public var contextLength: Int { hyperparameters.contextLength }
    public var endOfSequenceTokenIds: [Int32] { hyperparameters.eosTokenId.map { [$0] } ?? [] }
}
