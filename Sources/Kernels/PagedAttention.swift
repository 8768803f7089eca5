import CKernels

/// Grouped-query causal attention of one query row over the first `entryCount` KV entries of a paged
/// sequence: `output[h] = Σ_e softmax_e(q_h · k_e / sqrt(headDim)) v_e` with KV head `h / (heads / kvHeads)`.
///
/// Every element type (`kv.element` float32, bfloat16, float16 or int8) runs the same C kernels, two calls per
/// KV head whatever the entry count: one scores every entry for all the query heads that share that KV
/// head (walking the block table block by block, each K row read once for the whole group, 16- and 8-bit
/// elements widened to Float exactly as they load), each head's scores go through `softmaxInPlace`, and
/// one sums the V rows with those weights (each V row read once for the group). Sums are taken in
/// Float, on `path` (a forced path the CPU lacks falls back to the best one it has), so the result is
/// attention over the stored values up to Float rounding; grouping never changes a bit.
///
/// - Parameters:
///   - output: `[headCount * headDim]`.
///   - query: `[headCount * headDim]`, RoPE already applied.
///   - headCount: a positive multiple of `kvHeadCount` (query heads `g * group ..< (g + 1) * group` share
///     KV head `g`); heads that break this get NaN outputs rather than a crash.
///   - kvHeads: the KV heads (and their query heads) to compute, all by default; the other heads' outputs
///     are left as they are, so the groups of one row can run as separate tasks.
///   - scores: scratch of at least `pagedAttentionScoreCount(entryCount:headCount:kvHeadCount:)` floats
///     (`[headCount / kvHeadCount][entryCount]`).
public func pagedAttention(
    output: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>, kv: PagedKVView, entryCount: Int,
    headCount: Int, kvHeadCount: Int, headDim: Int, kvHeads: Range<Int>? = nil, scores: UnsafeMutablePointer<Float>,
    path: KernelPath = .automatic
) {
    guard kvHeadCount > 0, headCount >= kvHeadCount, headCount % kvHeadCount == 0 else {
        output.update(repeating: .nan, count: max(headCount, 0) * max(headDim, 0))
        return
    }
    let format: ck_kv_format
    switch kv.element {
    case .float32: format = CK_KV_F32
    case .bfloat16: format = CK_KV_BF16
    case .float16: format = CK_KV_F16
    case .int8: format = CK_KV_Q8
    }
    let group = headCount / kvHeadCount
    let scale = 1 / Float(headDim).squareRoot()
    let blockSize = Int32(kv.blockSize), width = Int32(kv.entryWidth), dim = Int32(headDim), count = Int32(entryCount)
    let cPath = path.cValue
    for kvHead in (kvHeads ?? 0..<kvHeadCount).clamped(to: 0..<kvHeadCount) {
        let kvOffset = Int32(kvHead * headDim)
        let q = query + kvHead * group * headDim, out = output + kvHead * group * headDim
        ck_kv_scores(scores, q, Int32(group), kv.keys, format, kv.blockTable, blockSize, width, kvOffset, dim, count, scale, cPath)
        for g in 0..<group { softmaxInPlace(scores + g * entryCount, count: entryCount) }
        ck_kv_weighted_sum(out, scores, Int32(group), kv.values, format, kv.blockTable, blockSize, width, kvOffset, dim, count, cPath)
    }
}

/// Floats of `scores` scratch that `pagedAttention` needs for one query row over `entryCount` entries:
/// one row of scores per query head of a KV group.
public func pagedAttentionScoreCount(entryCount: Int, headCount: Int, kvHeadCount: Int) -> Int {
    max(headCount / max(kvHeadCount, 1), 1) * max(entryCount, 1)
}
