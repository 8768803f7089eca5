import Hamburger
import KVCache
import Llama

/// The model the engine drives: one batched base forward pass over a `ForwardBatch`, reading and
/// writing the paged KV cache through each slice's block table.
///
/// A protocol so that the engine's scheduling, batching and sampling can be tested with a small
/// deterministic double, and so that the real `LlamaModel` plugs in through a one-line extension.
/// Only the engine thread calls `forward`; implementations need not be thread-safe. It refines
/// `HamburgerBase`, so a HAMburger adapter binds to this very model (embeddings, LM head, threads).
public protocol ForwardModel: HamburgerBase {
    /// Layers that keep K and V pages.
    var kvLayerCount: Int { get }
    /// Elements in one KV entry of one layer (`kvHeadCount * headDim`).
    var kvEntryWidth: Int { get }
    /// Elements of one KV head (`kvEntryWidth` is a multiple); grouped KV element types need it whole.
    var kvHeadDim: Int { get }
    /// Longest sequence (prompt + generated tokens) the model supports; the default `max_model_len`.
    var contextLength: Int { get }
    /// End-of-sequence token ids: the default stop tokens.
    var endOfSequenceTokenIds: [Int32] { get }
    /// Runs every row of `batch` and returns logits for the rows that want output, in slice order,
    /// storing K and V in the pages' `layout.elementType`. It may throw (a model that can fail, such as
    /// one whose weights live elsewhere): the engine then ends every sequence of the batch with
    /// `EngineError.forwardFailed` and goes on with the next; the KV entries the failed pass wrote belong
    /// to those sequences only and are freed with them.
    func forward(_ batch: ForwardBatch, pages: KVPages) throws -> ForwardOutput
}
