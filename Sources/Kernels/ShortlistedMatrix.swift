import CKernels

/// A wide weight matrix (an LM head: one row per vocabulary entry) kept twice for one-row products: a
/// Q4_1 copy, repacked (`PackedQuantizedMatrix`), that every product reads in full against int8
/// activations, and the original blocks (`exact`, in place in the mapped file) from which the
/// `candidateCount` best outputs of each row are recomputed against the float activations. For
/// SmolLM2's Q8_0 head the copy is 20 bytes per 32 weights instead of 34 (the head is a third of the
/// bytes a decode step reads), while the outputs that decide a greedy pick, and most of a softmax, are
/// those of the float path (`quantizedFloatMatmul`).
public final class ShortlistedMatrix: @unchecked Sendable {
    public let coarse: PackedQuantizedMatrix
    public let exact: QuantizedMatrix
    /// Outputs per row recomputed from `exact` (at most 256).
    public let candidateCount: Int

    /// Re-quantizes `exact` to Q4_1 and repacks it; `exact`'s blocks must outlive this value.
    public init(_ exact: QuantizedMatrix, candidateCount: Int = 64) throws {
        guard candidateCount > 0, candidateCount <= Int(CK_SHORTLIST_MAX) else {
            throw QuantizedKernelError.invalidShape(what: "shortlist", rowCount: candidateCount, columnCount: exact.columnCount,
                                                    reason: "the candidate count must be between 1 and \(CK_SHORTLIST_MAX)")
        }
        let byteCount = QuantizedMatrix.byteCount(format: .q4_1, rowCount: exact.rowCount, columnCount: exact.columnCount)
        let copy = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        defer { copy.deallocate() }
        guard ck_requantize_q4_1(copy, exact.blocks, exact.format.cValue, Int32(exact.rowCount), Int32(exact.columnCount)) != 0 else {
            throw QuantizedKernelError.invalidShape(what: "shortlist", rowCount: exact.rowCount, columnCount: exact.columnCount,
                                                    reason: "re-quantization refused the shape")
        }
        coarse = try PackedQuantizedMatrix(QuantizedMatrix(format: .q4_1, rowCount: exact.rowCount, columnCount: exact.columnCount,
                                                           blocks: copy, byteCount: byteCount))
        self.exact = exact
        self.candidateCount = candidateCount
    }

    /// Bytes a product reads: the coarse copy (the exact rows it revisits are a few kilobytes).
    public var byteCount: Int { coarse.byteCount }
}

/// y = x * W^T for the rows of x, given both as int8 blocks (`input`) and as floats (`floatInput`,
/// `input.rowCount` rows of `weights.exact.columnCount`): every output from W's coarse copy against the
/// int8 rows (one pool job), then each row's `candidateCount` largest outputs recomputed from the exact
/// blocks against the float row, as `quantizedFloatMatmul` computes them. `outputRowStride` defaults to
/// `weights.exact.rowCount`.
public func shortlistedMatmul(
    output: UnsafeMutableBufferPointer<Float>, input: QuantizedActivations, floatInput: UnsafeBufferPointer<Float>,
    weights: ShortlistedMatrix, outputRowStride: Int? = nil, pool: ThreadPool? = nil, path: KernelPath = .automatic
) throws {
    let exact = weights.exact
    let floats = try MatmulBuffers.input(floatInput, rowCount: input.rowCount, columns: exact.columnCount,
                                         stride: exact.columnCount, capacity: input.rowCount, what: "float activation input")
    try packedQuantizedMatmul([PackedProduct(output: output, weights: weights.coarse, outputRowStride: outputRowStride)],
                              input: input, pool: pool, path: path)
    let stride = outputRowStride ?? exact.rowCount
    let cPath = try (path == .avxVNNI ? KernelPath.avx2 : path).checked(for: .quantized)
    ck_qshortlist_rescore(output.baseAddress, stride, floats, exact.columnCount, exact.blocks, exact.format.cValue,
                          Int32(input.rowCount), Int32(exact.rowCount), Int32(exact.columnCount),
                          Int32(weights.candidateCount), cPath)
}
