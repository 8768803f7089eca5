import Kernels
import Llama

/// What a HAMburger macro step needs of its base model besides the forward pass: the token embedding
/// (the embedder merges groups of them; micro steps feed them), the shared LM head, and the worker
/// threads every product splits over. The engine's `ForwardModel` refines it, so the adapter runs
/// over the very model the engine drives (one reference, not a second copy that could differ).
public protocol HamburgerBase: AnyObject {
    /// Width of the residual stream.
    var hiddenSize: Int { get }
    /// Logit columns of the LM head.
    var vocabSize: Int { get }
    /// The threads products split over (used by the engine thread only).
    var pool: ThreadPool { get }
    /// Writes `E[token]` (`hiddenSize` floats) into `output`.
    func embed(token: Int32, into output: UnsafeMutablePointer<Float>)
    /// `[rowCount][vocabSize]` logits `E · h` of already-normed hidden states `[rowCount][hiddenSize]`.
    func lmHead(_ normed: [Float], rowCount: Int) -> [Float]
}

extension LlamaModel: HamburgerBase {
    public var hiddenSize: Int { hyperparameters.hiddenSize }
    public var vocabSize: Int { hyperparameters.vocabSize }
}
