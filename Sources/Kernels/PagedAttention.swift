import CKernels

/// Grouped-query causal attention of one query row over the first `entryCount` KV entries of a paged
/// sequence: `output[h] = Σ_e softmax_e(q_h · k_e / sqrt(headDim)) v_e` with KV head `h / (heads / kvHeads)`.
///
/// Every element type (`kv.element` float32, bfloat16 or float16) runs the same C kernels, three calls
/// per head whatever the entry count: one scores every entry (walking the block table block by block,
/// 16-bit elements widened to Float exactly as they load), the scores go through `softmaxInPlace`, and
/// one sums the V rows with those weights. Sums are taken in Float, on `path` (a forced path the CPU
/// lacks falls back to the best one it has), so the result is attention over the stored values up to
/// Float rounding.
///
/// - Parameters:
///   - output: `[headCount * headDim]`.
///   - query: `[headCount * headDim]`, RoPE already applied.
///   - scores: scratch of at least `entryCount` floats.
public func pagedAttention(
    output: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>, kv: PagedKVView, entryCount: Int,
    headCount: Int, kvHeadCount: Int, headDim: Int, scores: UnsafeMutablePointer<Float>, path: KernelPath = .automatic
) {
    let format: ck_kv_format
    switch kv.element {
    case .float32: format = CK_KV_F32
    case .bfloat16: format = CK_KV_BF16
    case .float16: format = CK_KV_F16
    }
    let group = headCount / kvHeadCount
    let scale = 1 / Float(headDim).squareRoot()
    let blockSize = Int32(kv.blockSize), width = Int32(kv.entryWidth), dim = Int32(headDim), count = Int32(entryCount)
    let cPath = path.cValue
    for h in 0..<headCount {
        let kvOffset = Int32((h / group) * headDim)
        ck_kv_scores(scores, query + h * headDim, kv.keys, format, kv.blockTable, blockSize, width, kvOffset, dim, count, scale, cPath)
        softmaxInPlace(scores, count: entryCount)
        ck_kv_weighted_sum(output + h * headDim, scores, kv.values, format, kv.blockTable, blockSize, width, kvOffset, dim, count, cPath)
    }
}
