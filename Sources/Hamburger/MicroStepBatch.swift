import Kernels

/// The micro decoder's run state for one macro step of `sequenceCount` sequences: each sequence's tiny
/// KV cache (at most F + K - 1 entries per layer, thrown away with the batch) and how many entries it
/// holds. `step` runs the layers over the rows of the sequences still open, one GEMM per weight.
///
/// Sequence j's first step pushes its F prefix feature rows (positions 0..F-1) and `E[t_1]` (position F)
/// together; later steps push one `E[t]` row each at the next position.
public final class MicroStepBatch {
    let decoder: MicroDecoder
    /// Splits the products (nil: one thread).
    let pool: ThreadPool?
    /// `[sequenceCount][F][hidden]` prefix features.
    let prefix: [Float]
    let featureCount: Int
    public let sequenceCount: Int
    /// Entries per sequence's cache.
    let capacity: Int
    /// Per layer, `[sequenceCount][capacity][kvWidth]` keys and values.
    var keys: [[Float]]
    var values: [[Float]]
    /// Entries each sequence holds.
    public private(set) var entryCounts: [Int]
    /// `blockTable[j] = j`: each sequence's cache is one "block" of `capacity` entries.
    let blockTable: [Int32]

    init(decoder: MicroDecoder, prefix: [Float], featureCount: Int, sequenceCount: Int, maxSteps: Int, pool: ThreadPool? = nil) {
        self.decoder = decoder
        self.pool = pool
        self.prefix = prefix
        self.featureCount = featureCount
        self.sequenceCount = sequenceCount
        capacity = featureCount + max(maxSteps - 1, 1)
        let size = sequenceCount * capacity * decoder.kvWidth
        keys = Array(repeating: [Float](repeating: 0, count: size), count: decoder.layers.count)
        values = keys
        entryCounts = Array(repeating: 0, count: sequenceCount)
        blockTable = (0..<sequenceCount).map { Int32($0) }
    }

    /// Feeds `embeddings[i]` (`[hidden]`, i.e. `E[t]`) to sequence `sequences[i]`; returns the raw layer
    /// output `h` `[sequences.count][hidden]` at each one's newest row (not normed).
    public func step(sequences: [Int], embeddings: [Float]) -> [Float] {
        let dec = decoder, d = dec.hiddenSize, kvW = dec.kvWidth, qW = dec.headCount * dec.headDim, ff = dec.intermediateSize
        // Rows of this step, per sequence contiguous: prefix rows first for a sequence's first step.
        var rowSequence: [Int] = []
        var rowEntry: [Int] = []
        var x: [Float] = []
        var lastRow: [Int] = []
        for (i, j) in sequences.enumerated() {
            var entry = entryCounts[j]
            if entry == 0 {
                x += prefix[j * featureCount * d ..< (j + 1) * featureCount * d]
                for f in 0..<featureCount {
                    rowSequence.append(j)
                    rowEntry.append(f)
                }
                entry = featureCount
            }
            x += embeddings[i * d ..< (i + 1) * d]
            rowSequence.append(j)
            rowEntry.append(entry)
            lastRow.append(rowSequence.count - 1)
        }
        let rows = rowSequence.count
        precondition(rowEntry.allSatisfy { $0 < capacity }, "a micro step beyond K tokens")

        var xn = [Float](repeating: 0, count: rows * d)
        var q = [Float](repeating: 0, count: rows * qW)
        var k = [Float](repeating: 0, count: rows * kvW)
        var v = [Float](repeating: 0, count: rows * kvW)
        var attention = [Float](repeating: 0, count: rows * qW)
        var projected = [Float](repeating: 0, count: rows * d)
        var gate = [Float](repeating: 0, count: rows * ff)
        var up = [Float](repeating: 0, count: rows * ff)
        var scores = [Float](repeating: 0, count: pagedAttentionScoreCount(entryCount: capacity, headCount: dec.headCount,
                                                                           kvHeadCount: dec.kvHeadCount))
        for (l, layer) in dec.layers.enumerated() {
            Dense.rmsNorm(&xn, x, weight: layer.attentionNorm, rows: rows, width: d, epsilon: dec.rmsEpsilon)
            Dense.apply(&q, xn, layer.query, rows: rows, inputWidth: d, outputWidth: qW, pool: pool)
            Dense.apply(&k, xn, layer.key, rows: rows, inputWidth: d, outputWidth: kvW, pool: pool)
            Dense.apply(&v, xn, layer.value, rows: rows, inputWidth: d, outputWidth: kvW, pool: pool)
            q.withUnsafeMutableBufferPointer { qp in
                k.withUnsafeMutableBufferPointer { kp in
                    for r in 0..<rows {
                        dec.rope.apply(to: qp.baseAddress! + r * qW, headCount: dec.headCount, position: rowEntry[r])
                        dec.rope.apply(to: kp.baseAddress! + r * kvW, headCount: dec.kvHeadCount, position: rowEntry[r])
                    }
                }
            }
            for r in 0..<rows {
                let offset = (rowSequence[r] * capacity + rowEntry[r]) * kvW
                keys[l].replaceSubrange(offset ..< offset + kvW, with: k[r * kvW ..< (r + 1) * kvW])
                values[l].replaceSubrange(offset ..< offset + kvW, with: v[r * kvW ..< (r + 1) * kvW])
            }
            keys[l].withUnsafeBufferPointer { kp in
                values[l].withUnsafeBufferPointer { vp in
                    blockTable.withUnsafeBufferPointer { table in
                        q.withUnsafeBufferPointer { qp in
                            attention.withUnsafeMutableBufferPointer { ap in
                                scores.withUnsafeMutableBufferPointer { sp in
                                    let view = PagedKVView(keys: kp.baseAddress!, values: vp.baseAddress!, blockTable: table.baseAddress!,
                                                           blockSize: capacity, entryWidth: kvW)
                                    for r in 0..<rows {
                                        var own = view
                                        own.blockTable = table.baseAddress! + rowSequence[r]
                                        pagedAttention(output: ap.baseAddress! + r * qW, query: qp.baseAddress! + r * qW, kv: own,
                                                       entryCount: rowEntry[r] + 1, headCount: dec.headCount,
                                                       kvHeadCount: dec.kvHeadCount, headDim: dec.headDim, scores: sp.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Dense.apply(&projected, attention, layer.output, rows: rows, inputWidth: qW, outputWidth: d, pool: pool)
            for i in 0..<x.count { x[i] += projected[i] }
            Dense.rmsNorm(&xn, x, weight: layer.ffnNorm, rows: rows, width: d, epsilon: dec.rmsEpsilon)
            Dense.apply(&gate, xn, layer.gate, rows: rows, inputWidth: d, outputWidth: ff, pool: pool)
            Dense.apply(&up, xn, layer.up, rows: rows, inputWidth: d, outputWidth: ff, pool: pool)
            gate.withUnsafeMutableBufferPointer { g in
                up.withUnsafeBufferPointer { u in siluMultiply(output: g.baseAddress!, gate: g.baseAddress!, up: u.baseAddress!, count: rows * ff) }
            }
            Dense.apply(&projected, gate, layer.down, rows: rows, inputWidth: ff, outputWidth: d, pool: pool)
            for i in 0..<x.count { x[i] += projected[i] }
        }
        for r in 0..<rows { entryCounts[rowSequence[r]] = max(entryCounts[rowSequence[r]], rowEntry[r] + 1) }
        var hidden = [Float](repeating: 0, count: sequences.count * d)
        for (i, r) in lastRow.enumerated() { hidden.replaceSubrange(i * d ..< (i + 1) * d, with: x[r * d ..< (r + 1) * d]) }
        return hidden
    }
}
