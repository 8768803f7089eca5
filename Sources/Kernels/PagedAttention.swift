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
/// Head dimensions that are multiples of 16 take a SIMD path; the result is the same either way up to
/// float rounding.
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
    let vectorized = headDim % 16 == 0
    for h in 0..<headCount {
        let q = query + h * headDim
        let kvOffset = (h / group) * headDim
        for e in 0..<entryCount {
            let k = kv.keys + kv.entryOffset(e) + kvOffset
            scores[e] = (vectorized ? dot16(q, k, headDim) : dotScalar(q, k, headDim)) * scale
        }
        softmaxInPlace(scores, count: entryCount)
        let out = output + h * headDim
        out.update(repeating: 0, count: headDim)
        for e in 0..<entryCount {
            let v = kv.values + kv.entryOffset(e) + kvOffset
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
