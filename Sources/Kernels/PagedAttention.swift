import Foundation

/// Where one sequence's K and V entries live for one layer: fixed-size blocks in a page array, found
/// through the sequence's block table. Attention reads the pages in place (no gather copy).
public struct PagedKVView {
    /// Start of this layer's K pages (`[block][entry][entryWidth]`).
    public var keys: UnsafePointer<Float>
    /// Start of this layer's V pages.
    public var values: UnsafePointer<Float>
    /// Block ids in order; entry `e` lives in block `blockTable[e / blockSize]` at `e % blockSize`.
    public var blockTable: UnsafePointer<Int32>
    public var blockSize: Int
    /// `kvHeadCount * headDim`.
    public var entryWidth: Int

    public init(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, blockTable: UnsafePointer<Int32>, blockSize: Int, entryWidth: Int) {
        self.keys = keys
        self.values = values
        self.blockTable = blockTable
        self.blockSize = blockSize
        self.entryWidth = entryWidth
    }

    @inline(__always)
    func entryOffset(_ entry: Int) -> Int {
        Int(blockTable[entry / blockSize]) * blockSize * entryWidth + (entry % blockSize) * entryWidth
    }
}

/// Grouped-query causal attention of one query row over the first `entryCount` KV entries of a paged
/// sequence: `output[h] = Σ_e softmax_e(q_h · k_e / sqrt(headDim)) v_e` with KV head `h / (heads / kvHeads)`.
///
/// - Parameters:
///   - output: `[headCount * headDim]`.
///   - query: `[headCount * headDim]`, RoPE already applied.
///   - scores: scratch of at least `entryCount` floats.
public func pagedAttention(
    output: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>, kv: PagedKVView, entryCount: Int,
    headCount: Int, kvHeadCount: Int, headDim: Int, scores: UnsafeMutablePointer<Float>
) {
    let group = headCount / kvHeadCount
    let scale = 1 / Float(headDim).squareRoot()
    for h in 0..<headCount {
        let q = query + h * headDim
        let kvOffset = (h / group) * headDim
        for e in 0..<entryCount {
            let k = kv.keys + kv.entryOffset(e) + kvOffset
            var dot: Float = 0
            for d in 0..<headDim { dot += q[d] * k[d] }
            scores[e] = dot * scale
        }
        softmaxInPlace(scores, count: entryCount)
        let out = output + h * headDim
        out.update(repeating: 0, count: headDim)
        for e in 0..<entryCount {
            let v = kv.values + kv.entryOffset(e) + kvOffset
            let p = scores[e]
            for d in 0..<headDim { out[d] += p * v[d] }
        }
    }
}
