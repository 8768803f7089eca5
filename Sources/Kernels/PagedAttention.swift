import Foundation

/// Grouped-query causal attention of one query row over the first `entryCount` KV entries of a paged
/// sequence: `output[h] = Σ_e softmax_e(q_h · k_e / sqrt(headDim)) v_e` with KV head `h / (heads / kvHeads)`.
///
/// Float pages: head dimensions that are multiples of 16 take a SIMD path; the result is the same either
/// way up to float rounding. 16-bit pages (`kv.element` bfloat16 or float16): the C kernels widen the
/// stored values to Float as they load them (a vector at a time) and sum in Float, on `path` (a forced
/// path the CPU lacks falls back to the best one it has; Float pages ignore it). Either way the result
/// is attention over the stored values up to float rounding.
///
/// - Parameters:
///   - output: `[headCount * headDim]`.
///   - query: `[headCount * headDim]`, RoPE already applied.
///   - scores: scratch of at least `entryCount` floats.
public func pagedAttention(
    output: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>, kv: PagedKVView, entryCount: Int,
    headCount: Int, kvHeadCount: Int, headDim: Int, scores: UnsafeMutablePointer<Float>, path: KernelPath = .automatic
) {
    // One branch per call: each element type runs its own loops.
    switch kv.element {
    case .float32:
        floatPagedAttention(output: output, query: query, kv: kv, entryCount: entryCount, headCount: headCount,
                            kvHeadCount: kvHeadCount, headDim: headDim, scores: scores)
    case .bfloat16, .float16:
        halfPagedAttention(output: output, query: query, kv: kv, entryCount: entryCount, headCount: headCount,
                           kvHeadCount: kvHeadCount, headDim: headDim, scores: scores, path: path)
    }
}

/// `pagedAttention` over Float pages.
func floatPagedAttention(
    output: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>, kv: PagedKVView, entryCount: Int,
    headCount: Int, kvHeadCount: Int, headDim: Int, scores: UnsafeMutablePointer<Float>
) {
    let keys = kv.keys.assumingMemoryBound(to: Float.self), values = kv.values.assumingMemoryBound(to: Float.self)
    let group = headCount / kvHeadCount
    let scale = 1 / Float(headDim).squareRoot()
    let vectorized = headDim % 16 == 0
    for h in 0..<headCount {
        let q = query + h * headDim
        let kvOffset = (h / group) * headDim
        for e in 0..<entryCount {
            let k = keys + kv.entryOffset(e) + kvOffset
            scores[e] = (vectorized ? dot16(q, k, headDim) : dotScalar(q, k, headDim)) * scale
        }
        softmaxInPlace(scores, count: entryCount)
        let out = output + h * headDim
        out.update(repeating: 0, count: headDim)
        for e in 0..<entryCount {
            let v = values + kv.entryOffset(e) + kvOffset
            if vectorized { axpy16(out, scores[e], v, headDim) } else { axpyScalar(out, scores[e], v, headDim) }
        }
    }
}

@inline(__always)
func dotScalar(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var s: Float = 0
    for i in 0..<n { s += a[i] * b[i] }
    return s
}

@inline(__always)
func dot16(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var acc = SIMD16<Float>()
    var i = 0
    while i < n {
        // `a * b + acc` rather than `addProduct`: a fused multiply-add lowers to a libm call per lane here.
        acc += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    return acc.sum()
}

@inline(__always)
func axpyScalar(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] += a * x[i] }
}

@inline(__always)
func axpy16(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
    var i = 0
    while i < n {
        var acc = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        acc += SIMD16(repeating: a) * rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        ry.storeBytes(of: acc, toByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
}
