import CKernels

/// `pagedAttention` over 16-bit pages: per head, the C kernels score every entry (widening K a vector at a
/// time), the scores go through the same softmax as the Float path, and the C kernels sum the widened V
/// rows with those weights. Three calls per head, whatever the entry count.
func halfPagedAttention(
    output: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>, kv: PagedKVView, entryCount: Int,
    headCount: Int, kvHeadCount: Int, headDim: Int, scores: UnsafeMutablePointer<Float>, path: KernelPath
) {
    let format = kv.element == .float16 ? CK_KV_F16 : CK_KV_BF16
    let keys = kv.keys.assumingMemoryBound(to: UInt16.self), values = kv.values.assumingMemoryBound(to: UInt16.self)
    let group = headCount / kvHeadCount
    let scale = 1 / Float(headDim).squareRoot()
    let blockSize = Int32(kv.blockSize), width = Int32(kv.entryWidth), dim = Int32(headDim), count = Int32(entryCount)
    let cPath = path.cValue
    for h in 0..<headCount {
        let kvOffset = Int32((h / group) * headDim)
        ck_kv_scores(scores, query + h * headDim, keys, format, kv.blockTable, blockSize, width, kvOffset, dim, count, scale, cPath)
        softmaxInPlace(scores, count: entryCount)
        ck_kv_weighted_sum(output + h * headDim, scores, values, format, kv.blockTable, blockSize, width, kvOffset, dim, count, cPath)
    }
}
