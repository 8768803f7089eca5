import Kernels
import Llama

/// A HAMburger adapter bound to the base model it runs over: what one macro step needs beyond the
/// base forward pass. Merges groups into input vectors, computes stop probabilities, and runs the micro
/// loop of a macro step (`completeMacroSteps`). Batched over the sequences given; nothing holds state
/// between calls. Owned by the engine thread, like the base model it holds.
public final class HamburgerRuntime {
    public let base: any HamburgerBase
    public let adapter: HamburgerAdapter

    /// Binds `adapter` to `base`, refusing a base whose width or vocabulary differs from the adapter's.
    public init(base: any HamburgerBase, adapter: HamburgerAdapter) throws(HamburgerError) {
        let recorded = adapter.configuration.baseModel
        guard base.hiddenSize == recorded.hiddenSize, base.vocabSize == recorded.vocabSize else {
            throw .baseShapeMismatch(path: adapter.configurationPath,
                                     reason: "the adapter records hidden size \(recorded.hiddenSize) and vocabulary \(recorded.vocabSize), the model has \(base.hiddenSize) and \(base.vocabSize)")
        }
        self.base = base
        self.adapter = adapter
    }

    public var maxSteps: Int { adapter.maxSteps }
    public var featureLayers: [Int] { adapter.featureLayers }
    public var featureCount: Int { adapter.featureCount }
    public var hiddenSize: Int { base.hiddenSize }
    public var vocabSize: Int { base.vocabSize }

    /// One base input vector per group (k = 1: the plain embedding).
    public func mergeGroups(_ groups: [[Int32]]) -> [[Float]] {
        adapter.embedder.merge(groups, pool: base.pool) { token, output in base.embed(token: token, into: output) }
    }

    /// `[rowCount]` stop probabilities of hidden states `[rowCount][hidden]`.
    public func stopProbabilities(_ hidden: [Float], rowCount: Int) -> [Float] {
        adapter.stopHead.probabilities(hidden, rowCount: rowCount, pool: base.pool)
    }

    /// Micro decoders for `sequenceCount` sequences whose prefix features are `[sequenceCount][F][hidden]`.
    public func beginMicroSteps(prefix: [Float], sequenceCount: Int) -> MicroStepBatch {
        MicroStepBatch(decoder: adapter.microDecoder, prefix: prefix, featureCount: featureCount,
                       sequenceCount: sequenceCount, maxSteps: maxSteps, pool: base.pool)
    }

    /// Feeds `tokens[i]` to sequence `sequences[i]` of `batch`: returns the next tokens' logits
    /// `[count][vocab]` (`E · RMSNorm_mu(h)`) and stop probabilities `[count]` (of the raw `h`).
    public func microStep(_ batch: MicroStepBatch, sequences: [Int], tokens: [Int32]) -> (logits: [Float], stop: [Float]) {
        let d = hiddenSize, n = sequences.count
        var embeddings = [Float](repeating: 0, count: n * d)
        embeddings.withUnsafeMutableBufferPointer { e in
            for (i, token) in tokens.enumerated() { base.embed(token: token, into: e.baseAddress! + i * d) }
        }
        let hidden = batch.step(sequences: sequences, embeddings: embeddings)
        var normed = [Float](repeating: 0, count: n * d)
        let decoder = adapter.microDecoder
        rmsNormRows(output: &normed, input: hidden, weight: decoder.outputNorm, rowCount: n, width: d, epsilon: decoder.shape.rmsEpsilon)
        return (base.lmHead(normed, rowCount: n), stopProbabilities(hidden, rowCount: n))
    }
}
