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
        if precision == .f32, let threadCount { setBLASThreadCount(threadCount) }
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
        let d = hp.hiddenSize, qWidth = hp.headCount * hp.headDim, kvWidth = hp.kvEntryWidth, ff = hp.intermediateSize
        precondition(batch.positions.count == rows, "one RoPE position per row")
        precondition(pages.layout.entryWidth == kvWidth && pages.layout.layerCount == hp.layerCount, "KV pages do not fit this model")

        // Which slice and which KV entry each row writes.
        var rowSlice = [Int](repeating: 0, count: rows)
        var rowEntry = [Int](repeating: 0, count: rows)
        for (s, slice) in batch.slices.enumerated() {
            precondition(slice.blockTable.count * pages.layout.blockSize >= slice.cachedEntryCount + slice.rowCount,
                         "block table too short for the slice's entries")
            for i in 0..<slice.rowCount {
                rowSlice[slice.rowStart + i] = s
                rowEntry[slice.rowStart + i] = slice.cachedEntryCount + i
            }
        }
        let outputRows = batch.slices.filter(\.wantsOutput).map { $0.rowStart + $0.rowCount - 1 }
        let featureSlots = Dictionary(batch.featureLayers.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        // HAMburger: rows that get merge-only LoRA deltas (none without an adapter).
        let loraRows = batch.loraRowIndices

        var x = [Float](repeating: 0, count: rows * d)
        var xn = [Float](repeating: 0, count: rows * d)
        var q = [Float](repeating: 0, count: rows * qWidth)
        var k = [Float](repeating: 0, count: rows * kvWidth)
        var v = [Float](repeating: 0, count: rows * kvWidth)
        var attention = [Float](repeating: 0, count: rows * qWidth)
        var projected = [Float](repeating: 0, count: rows * d)
        var gate = [Float](repeating: 0, count: rows * ff)
        var up = [Float](repeating: 0, count: rows * ff)
        let maxEntries = (batch.slices.map { $0.cachedEntryCount + $0.rowCount }.max() ?? 0)
        let scoreStride = pagedAttentionScoreCount(entryCount: maxEntries, headCount: hp.headCount, kvHeadCount: hp.kvHeadCount)
        var scores = [Float](repeating: 0, count: scoreStride * pool.threadCount)
        // All block tables in one array, so attention tasks on any thread can read them.
        var flatBlockTable: [Int32] = []
        var tableStart: [Int] = []
        for slice in batch.slices {
            tableStart.append(flatBlockTable.count)
            flatBlockTable += slice.blockTable
        }
        var features = [Float](repeating: 0, count: outputRows.count * batch.featureLayers.count * d)

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

        let blockSize = pages.layout.blockSize
        let element = pages.layout.elementType.pageElement
        for (layerIndex, layer) in weights.layers.enumerated() {
            // Attention block.
            rmsNormRows(output: &xn, input: x, weight: layer.attentionNorm, rowCount: rows, width: d, epsilon: hp.rmsEpsilon)
            linear(&q, &k, &v, from: xn, layer.query, layer.key, layer.value, rows: rows, width: d)
            addLoRA(batch.mergeLoRA, .attnQuery, layer: layerIndex, input: xn, output: &q, rows: loraRows)
            addLoRA(batch.mergeLoRA, .attnKey, layer: layerIndex, input: xn, output: &k, rows: loraRows)
            addLoRA(batch.mergeLoRA, .attnValue, layer: layerIndex, input: xn, output: &v, rows: loraRows)
            q.withUnsafeMutableBufferPointer { qp in
                k.withUnsafeMutableBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        for r in 0..<rows {
                            let position = Int(batch.positions[r])
                            rope.apply(to: qp.baseAddress! + r * qWidth, headCount: hp.headCount, position: position)
                            rope.apply(to: kp.baseAddress! + r * kvWidth, headCount: hp.kvHeadCount, position: position)
                            let entry = rowEntry[r]
                            let block = Int(batch.slices[rowSlice[r]].blockTable[entry / blockSize])
                            let offset = (entry % blockSize) * kvWidth * element.byteWidth
                            storeKVElements(output: pages.keyBlock(layer: layerIndex, block: block) + offset,
                                            input: kp.baseAddress! + r * kvWidth, count: kvWidth, element: element)
                            storeKVElements(output: pages.valueBlock(layer: layerIndex, block: block) + offset,
                                            input: vp.baseAddress! + r * kvWidth, count: kvWidth, element: element)
                        }
                    }
                }
            }
            // Attention: rows are independent given the pages, so they split across the pool's threads.
            attention.withUnsafeMutableBufferPointer { ap in
                q.withUnsafeBufferPointer { qp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        flatBlockTable.withUnsafeBufferPointer { tables in
                            let keys = UnsafeRawPointer(pages.keyBlock(layer: layerIndex, block: 0))
                            let values = UnsafeRawPointer(pages.valueBlock(layer: layerIndex, block: 0))
                            pool.run(taskCount: rows) { r, thread in
                                let view = PagedKVView(keys: keys, values: values, element: element,
                                                       blockTable: tables.baseAddress! + tableStart[rowSlice[r]],
                                                       blockSize: blockSize, entryWidth: kvWidth)
                                pagedAttention(output: ap.baseAddress! + r * qWidth, query: qp.baseAddress! + r * qWidth,
                                               kv: view, entryCount: rowEntry[r] + 1, headCount: hp.headCount,
                                               kvHeadCount: hp.kvHeadCount, headDim: hp.headDim,
                                               scores: sp.baseAddress! + thread * scoreStride)
                            }
                        }
                    }
                }
            }
            linear(&projected, from: attention, layer.output, rows: rows, width: qWidth)
            addLoRA(batch.mergeLoRA, .attnOutput, layer: layerIndex, input: attention, output: &projected, rows: loraRows)
            Self.addInPlace(&x, projected)

            // Feed-forward block (SwiGLU).
            rmsNormRows(output: &xn, input: x, weight: layer.ffnNorm, rowCount: rows, width: d, epsilon: hp.rmsEpsilon)
            linear(&gate, &up, from: xn, layer.gate, layer.up, rows: rows, width: d)
            addLoRA(batch.mergeLoRA, .ffnGate, layer: layerIndex, input: xn, output: &gate, rows: loraRows)
            addLoRA(batch.mergeLoRA, .ffnUp, layer: layerIndex, input: xn, output: &up, rows: loraRows)
            siluMultiply(output: &gate, gate: gate, up: up, count: rows * ff)
            linear(&projected, from: gate, layer.down, rows: rows, width: ff)
            addLoRA(batch.mergeLoRA, .ffnDown, layer: layerIndex, input: gate, output: &projected, rows: loraRows)
            Self.addInPlace(&x, projected)

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
        var logits = [Float](repeating: 0, count: rowCount * hyperparameters.vocabSize)
        linear(&logits, from: normed, weights.lmHead, rows: rowCount, width: hyperparameters.hiddenSize)
        return logits
    }

    /// `output = input · Wᵀ` for one weight.
    func linear(_ output: inout [Float], from input: [Float], _ weight: LinearWeight, rows: Int, width: Int) {
        input.withUnsafeBufferPointer { i in
            let shared = LinearInput(values: i.baseAddress!, rows: rows, width: width)
            output.withUnsafeMutableBufferPointer { weight.apply(to: shared, output: $0.baseAddress!, pool: pool) }
        }
    }

    /// Two weights over the same input (converted once).
    func linear(_ a: inout [Float], _ b: inout [Float], from input: [Float], _ wa: LinearWeight, _ wb: LinearWeight, rows: Int, width: Int) {
        input.withUnsafeBufferPointer { i in
            let shared = LinearInput(values: i.baseAddress!, rows: rows, width: width)
            a.withUnsafeMutableBufferPointer { wa.apply(to: shared, output: $0.baseAddress!, pool: pool) }
            b.withUnsafeMutableBufferPointer { wb.apply(to: shared, output: $0.baseAddress!, pool: pool) }
        }
    }

    /// Three weights over the same input (converted once): q, k and v.
    func linear(_ a: inout [Float], _ b: inout [Float], _ c: inout [Float], from input: [Float],
                _ wa: LinearWeight, _ wb: LinearWeight, _ wc: LinearWeight, rows: Int, width: Int) {
        input.withUnsafeBufferPointer { i in
            let shared = LinearInput(values: i.baseAddress!, rows: rows, width: width)
            a.withUnsafeMutableBufferPointer { wa.apply(to: shared, output: $0.baseAddress!, pool: pool) }
            b.withUnsafeMutableBufferPointer { wb.apply(to: shared, output: $0.baseAddress!, pool: pool) }
            c.withUnsafeMutableBufferPointer { wc.apply(to: shared, output: $0.baseAddress!, pool: pool) }
        }
    }

    @inline(__always)
    static func addInPlace(_ x: inout [Float], _ y: [Float]) {
        x.withUnsafeMutableBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                for i in 0..<xp.count { xp[i] += yp[i] }
            }
        }
    }
}
