import GGUF
import KVCache
import Kernels

/// A Llama-architecture decoder (SmolLM2) that runs one batched forward pass over a `ForwardBatch`:
/// one GEMM per weight matrix over all rows, RoPE at each row's own position, K/V written into the
/// paged cache through each sequence's block table (in the pages' element type), attention read from
/// the pages in place.
///
/// The model holds only immutable weights and hyperparameters; run state (KV pages) is passed in, so
/// the engine thread that owns the pages owns every forward.
public final class LlamaModel: Sendable {
    public let hyperparameters: LlamaHyperparameters
    public let weights: LlamaWeights
    public let rope: RoPE
    /// The worker threads every product splits its output rows over (used by the engine thread only).
    public let pool: ThreadPool

    /// Loads the model from `file` keeping the weights in `precision`, computing on `threadCount`
    /// threads (nil: one per available core).
    public init(file: GGUFFile, precision: WeightPrecision = .native, lmHeadPrecision: WeightPrecision? = nil, threadCount: Int? = nil) throws {
        let hp = try LlamaHyperparameters(file: file)
        hyperparameters = hp
        weights = try LlamaWeights(file: file, hyperparameters: hp, precision: precision, lmHeadPrecision: lmHeadPrecision)
        rope = RoPE(headDim: hp.headDim, theta: hp.ropeTheta)
        pool = try ThreadPool(threadCount: threadCount)
        // Every Float product splits over `pool` (one OpenBLAS call per part), so OpenBLAS's own
        // threads would fight the pool's workers for the cores: the process keeps OpenBLAS at one
        // thread, set once by the executable (`HamburgerCommand.main`), not by a library type.
    }

    public convenience init(path: String, precision: WeightPrecision = .native, lmHeadPrecision: WeightPrecision? = nil, threadCount: Int? = nil) throws {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch let error as GGUFError { throw LlamaError.file(error) }
        try self.init(file: file, precision: precision, lmHeadPrecision: lmHeadPrecision, threadCount: threadCount)
    }

    /// The KV geometry this model needs for `blockCount` blocks of `blockSize` entries stored as `elementType`.
    public func kvLayout(blockSize: Int, blockCount: Int, elementType: KVElementType = .float32) -> KVCacheLayout {
        KVCacheLayout(layerCount: hyperparameters.layerCount, entryWidth: hyperparameters.kvEntryWidth,
                      blockSize: blockSize, blockCount: blockCount, elementType: elementType)
    }

    /// Copies the embedding of `token` into `output` (`hiddenSize` floats).
    public func embed(token: Int32, into output: UnsafeMutablePointer<Float>) {
        weights.embed(token: token, into: output)
    }

    /// Runs the batch: writes one KV entry per row into `pages` and returns logits, the final normed
    /// hidden state and the requested layer features for the last row of every slice that wants output.
    public func forward(_ batch: ForwardBatch, pages: KVPages) -> ForwardOutput {
        let hp = hyperparameters
        let rows = batch.rowCount
        let d = hp.hiddenSize
        precondition(batch.positions.count == rows, "one RoPE position per row")
        precondition(pages.layout.entryWidth == hp.kvEntryWidth && pages.layout.layerCount == hp.layerCount, "KV pages do not fit this model")

        // Which block table and which KV entry each row uses: all tables in one array.
        var tables: [Int32] = []
        var rowTableStart = [Int](repeating: 0, count: rows)
        var rowEntry = [Int](repeating: 0, count: rows)
        for slice in batch.slices {
            precondition(slice.blockTable.count * pages.layout.blockSize >= slice.cachedEntryCount + slice.rowCount,
                         "block table too short for the slice's entries")
            for i in 0..<slice.rowCount {
                rowTableStart[slice.rowStart + i] = tables.count
                rowEntry[slice.rowStart + i] = slice.cachedEntryCount + i
            }
            tables += slice.blockTable
        }
        let outputRows = batch.outputRows
        let featureSlots = Dictionary(batch.featureLayers.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        // HAMburger: rows that get merge-only LoRA deltas (none without an adapter).
        let lora = batch.mergeLoRA.map { MergeLoRARows(adapter: $0, rows: batch.loraRowIndices) }
        var features = [Float](repeating: 0, count: outputRows.count * batch.featureLayers.count * d)

        var x = [Float](repeating: 0, count: rows * d)
        x.withUnsafeMutableBufferPointer { xp in
            for (r, input) in batch.inputs.enumerated() {
                switch input {
                case let .token(id): embed(token: id, into: xp.baseAddress! + r * d)
                case let .embedding(vector):
                    precondition(vector.count == d, "an embedding row must have hiddenSize floats")
                    (xp.baseAddress! + r * d).update(from: vector, count: d)
                }
            }
        }

        let shape = DecoderLayerShape(hp)
        var kv = DecoderLayerKV(keys: pages.keys, values: pages.values, element: pages.layout.elementType.pageElement,
                                blockSize: pages.layout.blockSize, blockTables: tables, rowTableStart: rowTableStart, rowEntry: rowEntry)
        let scratch = DecoderScratch()
        for (layerIndex, layer) in weights.layers.enumerated() {
            kv.keys = pages.keyBlock(layer: layerIndex, block: 0)
            kv.values = pages.valueBlock(layer: layerIndex, block: 0)
            layer.forward(&x, rows: rows, positions: batch.positions, kv: kv, shape: shape, rope: rope, pool: pool,
                          layerIndex: layerIndex, lora: lora, scratch: scratch)
            if let slot = featureSlots[layerIndex] {
                let featureCount = batch.featureLayers.count
                for (o, r) in outputRows.enumerated() {
                    let destination = (o * featureCount + slot) * d
                    features.replaceSubrange(destination..<destination + d, with: x[r * d..<(r + 1) * d])
                }
            }
        }

        // Final norm and LM head only for the rows whose output is wanted.
        var finalNormed = [Float](repeating: 0, count: outputRows.count * d)
        for (o, r) in outputRows.enumerated() {
            finalNormed.replaceSubrange(o * d..<(o + 1) * d, with: x[r * d..<(r + 1) * d])
        }
        rmsNormRows(output: &finalNormed, input: finalNormed, weight: weights.outputNorm, rowCount: outputRows.count, width: d, epsilon: hp.rmsEpsilon)
        let logits = lmHead(finalNormed, rowCount: outputRows.count)
        return ForwardOutput(rowCount: outputRows.count, logits: logits, finalNormed: finalNormed, features: features)
    }

    /// `E · h` for `rowCount` rows of already-normed hidden states: `[rowCount][vocabSize]` logits.
    public func lmHead(_ normed: [Float], rowCount: Int) -> [Float] {
        guard rowCount > 0 else { return [] }
        return weights.lmHead.apply(normed, rows: rowCount, pool: pool)
    }
}
