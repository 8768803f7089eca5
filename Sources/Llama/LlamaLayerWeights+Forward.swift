import Kernels

/// Work buffers of decoder-layer passes, reused from layer to layer (and pass to pass): grown when a
/// pass needs more rows or attends to more entries than before, never shrunk.
public final class DecoderScratch {
    private(set) var rowCapacity = 0
    private var shape: DecoderLayerShape?
    var normed = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var query = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var key = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var value = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var attention = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var projected = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var gate = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var up = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    /// Attention scores, `scoreStride` per pool thread.
    var scores = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private(set) var scoreStride = 0
    private var scoreThreads = 0

    public init() {}

    deinit {
        release()
        scores.deallocate()
    }

    private func release() {
        for p in [normed, query, key, value, attention, projected, gate, up] { p.deallocate() }
    }

    /// Sizes the buffers for `rows` rows of `shape` attending to at most `entryCount` entries.
    func reserve(rows: Int, shape: DecoderLayerShape, entryCount: Int, threadCount: Int) {
        if rows > rowCapacity || shape != self.shape {
            release()
            let capacity = max(rows, rowCapacity)
            func buffer(_ width: Int) -> UnsafeMutablePointer<Float> {
                let p = UnsafeMutablePointer<Float>.allocate(capacity: capacity * width)
                p.initialize(repeating: 0, count: capacity * width)
                return p
            }
            normed = buffer(shape.hiddenSize)
            query = buffer(shape.queryWidth)
            key = buffer(shape.kvWidth)
            value = buffer(shape.kvWidth)
            attention = buffer(shape.queryWidth)
            projected = buffer(shape.hiddenSize)
            gate = buffer(shape.intermediateSize)
            up = buffer(shape.intermediateSize)
            rowCapacity = capacity
            self.shape = shape
        }
        let stride = pagedAttentionScoreCount(entryCount: entryCount, headCount: shape.headCount, kvHeadCount: shape.kvHeadCount)
        if stride > scoreStride || threadCount > scoreThreads {
            scores.deallocate()
            scoreStride = max(stride, scoreStride)
            scoreThreads = max(threadCount, scoreThreads)
            scores = .allocate(capacity: scoreStride * scoreThreads)
            scores.initialize(repeating: 0, count: scoreStride * scoreThreads)
        }
    }
}

extension LlamaLayerWeights {
    /// One decoder layer over `rows` rows of the residual stream `x` (`[rows][hidden]`, updated in
    /// place): RMSNorm, Q/K/V (one product per weight over all rows), RoPE at each row's `positions[r]`,
    /// K and V stored into `kv` at each row's slot, attention over the row's slots `0 ... slot` (rows
    /// split over `pool`), output projection, residual; RMSNorm, SwiGLU, down projection, residual.
    /// `lora` adds HAMburger's merge-only deltas of layer `layerIndex` to its rows' products.
    public func forward(_ x: inout [Float], rows: Int, positions: [Int32], kv: DecoderLayerKV, shape: DecoderLayerShape,
                        rope: RoPE, pool: ThreadPool, layerIndex: Int = 0, lora: MergeLoRARows? = nil,
                        scratch: DecoderScratch) {
        precondition(positions.count == rows && kv.rowEntry.count == rows && kv.rowTableStart.count == rows, "one position and slot per row")
        precondition(x.count >= rows * shape.hiddenSize, "the residual stream holds every row")
        let d = shape.hiddenSize, qWidth = shape.queryWidth, kvWidth = shape.kvWidth, ff = shape.intermediateSize
        scratch.reserve(rows: rows, shape: shape, entryCount: kv.maxEntryCount, threadCount: pool.threadCount)
        let s = scratch
        x.withUnsafeMutableBufferPointer { xBuffer in
            let xp = xBuffer.baseAddress!
            // Attention block.
            rmsNormRows(output: s.normed, input: xp, weight: attentionNorm, rowCount: rows, width: d, epsilon: shape.rmsEpsilon)
            let normedInput = LinearInput(values: s.normed, rows: rows, width: d)
            LinearWeight.apply([query, key, value], to: normedInput, outputs: [s.query, s.key, s.value], pool: pool)
            if let lora, !lora.rows.isEmpty {
                lora.adapter.addDelta(.attnQuery, layer: layerIndex, input: s.normed, output: s.query, rows: lora.rows)
                lora.adapter.addDelta(.attnKey, layer: layerIndex, input: s.normed, output: s.key, rows: lora.rows)
                lora.adapter.addDelta(.attnValue, layer: layerIndex, input: s.normed, output: s.value, rows: lora.rows)
            }
            let element = kv.element
            kv.blockTables.withUnsafeBufferPointer { tables in
                for r in 0..<rows {
                    let position = Int(positions[r])
                    rope.apply(to: s.query + r * qWidth, headCount: shape.headCount, position: position)
                    rope.apply(to: s.key + r * kvWidth, headCount: shape.kvHeadCount, position: position)
                    let entry = kv.rowEntry[r]
                    let block = Int(tables[kv.rowTableStart[r] + entry / kv.blockSize])
                    let offset = (block * kv.blockSize + entry % kv.blockSize) * element.byteCount(values: kvWidth)
                    storeKVElements(output: kv.keys + offset, input: s.key + r * kvWidth, count: kvWidth, element: element)
                    storeKVElements(output: kv.values + offset, input: s.value + r * kvWidth, count: kvWidth, element: element)
                }
                // Rows, and the KV-head groups of a row, are independent given the pages, so they split
                // across the pool's threads (a one-row decode step still uses every thread).
                let scoreStride = s.scoreStride, kvHeads = shape.kvHeadCount
                pool.run(taskCount: rows * kvHeads) { task, thread in
                    let r = task / kvHeads, kvHead = task % kvHeads
                    let view = PagedKVView(keys: UnsafeRawPointer(kv.keys), values: UnsafeRawPointer(kv.values), element: element,
                                           blockTable: tables.baseAddress! + kv.rowTableStart[r],
                                           blockSize: kv.blockSize, entryWidth: kvWidth)
                    pagedAttention(output: s.attention + r * qWidth, query: s.query + r * qWidth,
                                   kv: view, entryCount: kv.rowEntry[r] + 1, headCount: shape.headCount,
                                   kvHeadCount: shape.kvHeadCount, headDim: shape.headDim, kvHeads: kvHead..<kvHead + 1,
                                   scores: s.scores + thread * scoreStride)
                }
            }
            output.apply(to: LinearInput(values: s.attention, rows: rows, width: qWidth), output: s.projected, pool: pool)
            if let lora, !lora.rows.isEmpty {
                lora.adapter.addDelta(.attnOutput, layer: layerIndex, input: s.attention, output: s.projected, rows: lora.rows)
            }
            for i in 0..<rows * d { xp[i] += s.projected[i] }

            // Feed-forward block (SwiGLU).
            rmsNormRows(output: s.normed, input: xp, weight: ffnNorm, rowCount: rows, width: d, epsilon: shape.rmsEpsilon)
            let ffnInput = LinearInput(values: s.normed, rows: rows, width: d)
            LinearWeight.apply([gate, up], to: ffnInput, outputs: [s.gate, s.up], pool: pool)
            if let lora, !lora.rows.isEmpty {
                lora.adapter.addDelta(.ffnGate, layer: layerIndex, input: s.normed, output: s.gate, rows: lora.rows)
                lora.adapter.addDelta(.ffnUp, layer: layerIndex, input: s.normed, output: s.up, rows: lora.rows)
            }
            siluMultiply(output: s.gate, gate: s.gate, up: s.up, count: rows * ff)
            down.apply(to: LinearInput(values: s.gate, rows: rows, width: ff), output: s.projected, pool: pool)
            if let lora, !lora.rows.isEmpty {
                lora.adapter.addDelta(.ffnDown, layer: layerIndex, input: s.gate, output: s.projected, rows: lora.rows)
            }
            for i in 0..<rows * d { xp[i] += s.projected[i] }
        }
    }
}
