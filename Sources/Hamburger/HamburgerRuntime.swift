import Kernels
import Llama

/// A HAMburger adapter bound to its base model: what one macro step needs beyond the base forward
/// pass. Merges groups into input vectors, computes stop probabilities, starts a batch of micro
/// decoders from their prefix features and turns micro outputs into logits through the base's LM
/// head. Everything is batched over the sequences given; nothing holds state between calls.
public final class HamburgerRuntime: Sendable {
    public let model: LlamaModel
    public let adapter: HamburgerAdapter

    /// Binds `adapter` to `model`. When the base does not compute in f32 (so OpenBLAS serves only the
    /// grafted modules, whose products are split over the model's thread pool), OpenBLAS is kept at
    /// one thread: its own workers would fight the pool's for the cores.
    public init(model: LlamaModel, adapter: HamburgerAdapter) {
        self.model = model
        self.adapter = adapter
        if model.weights.precision != .f32 { setBLASThreadCount(1) }
    }

    /// Loads the adapter at `adapterPath` for `model` (read from `baseModelPath`).
    public convenience init(model: LlamaModel, adapterPath: String, baseModelPath: String) throws(HamburgerError) {
        self.init(model: model, adapter: try HamburgerAdapter(path: adapterPath, baseModelPath: baseModelPath, hyperparameters: model.hyperparameters))
    }

    public var maxSteps: Int { adapter.maxSteps }
    public var featureLayers: [Int] { adapter.featureLayers }
    public var featureCount: Int { adapter.featureCount }
    public var hiddenSize: Int { model.hyperparameters.hiddenSize }
    public var vocabSize: Int { model.hyperparameters.vocabSize }

    /// One base input vector per group (k = 1: the plain embedding).
    public func mergeGroups(_ groups: [[Int32]]) -> [[Float]] {
        adapter.embedder.merge(groups, pool: model.pool) { token, output in model.embed(token: token, into: output) }
    }

    /// `[rowCount]` stop probabilities of hidden states `[rowCount][hidden]`.
    public func stopProbabilities(_ hidden: [Float], rowCount: Int) -> [Float] {
        adapter.stopHead.probabilities(hidden, rowCount: rowCount, pool: model.pool)
    }

    /// Micro decoders for `sequenceCount` sequences whose prefix features are `[sequenceCount][F][hidden]`.
    public func beginMicroSteps(prefix: [Float], sequenceCount: Int) -> MicroStepBatch {
        MicroStepBatch(decoder: adapter.microDecoder, prefix: prefix, featureCount: featureCount,
                       sequenceCount: sequenceCount, maxSteps: maxSteps, pool: model.pool)
    }

    /// Feeds `tokens[i]` to sequence `sequences[i]` of `batch`: returns the next tokens' logits
    /// `[count][vocab]` (`E · RMSNorm_mu(h)`) and stop probabilities `[count]` (of the raw `h`).
    public func microStep(_ batch: MicroStepBatch, sequences: [Int], tokens: [Int32]) -> (logits: [Float], stop: [Float]) {
        let d = hiddenSize, n = sequences.count
        var embeddings = [Float](repeating: 0, count: n * d)
        embeddings.withUnsafeMutableBufferPointer { e in
            for (i, token) in tokens.enumerated() { model.embed(token: token, into: e.baseAddress! + i * d) }
        }
        let hidden = batch.step(sequences: sequences, embeddings: embeddings)
        var normed = [Float](repeating: 0, count: n * d)
        Dense.rmsNorm(&normed, hidden, weight: adapter.microDecoder.outputNorm, rows: n, width: d, epsilon: adapter.microDecoder.rmsEpsilon)
        return (model.lmHead(normed, rowCount: n), stopProbabilities(hidden, rowCount: n))
    }
}
