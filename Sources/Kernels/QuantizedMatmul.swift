import CKernels

/// Quantizes `rowCount` rows of `output.columnCount` floats (row r starts at `input[r * inputRowStride]`)
/// into `output`: per block of 32, d = amax/127 and q = round-half-even(x/d) in [-127, 127]. Every path
/// gives identical bits. Two-digit scratch (`digitCount` 2) gets d = amax/16256 and q in two digits. NaN or infinite inputs give unspecified (finite, non-crashing) blocks.
public func quantizeActivations(
    output: QuantizedActivations, input: UnsafeBufferPointer<Float>, rowCount: Int,
    inputRowStride: Int? = nil, path: KernelPath = .automatic
) throws {
    let columns = output.columnCount
    let stride = inputRowStride ?? columns
    let base = try MatmulBuffers.input(input, rowCount: rowCount, columns: columns, stride: stride,
                                       capacity: output.rowCapacity, what: "activation input")
    let cPath = try path.checked(for: .quantized)
    if let low = output.lowValues {
        ck_quantize_rows_q8x2(output.values, low, output.scales, output.blockSums, base, stride, Int32(rowCount), Int32(columns), cPath)
    } else {
        ck_quantize_rows_q8(output.values, output.scales, output.blockSums, base, stride, Int32(rowCount),
                            Int32(columns), cPath)
    }
    output.rowCount = rowCount
}

/// y = x * W^T: `output[m * outputRowStride + n]` = sum over k of x[m][k] * W[n][k], for the
/// `input.rowCount` quantized rows of x and the `weights.rowCount` rows of W (an int8 x Q4_0/Q4_1/Q8_0
/// dot product per block, scaled in f32). Work is split over W's rows across `pool` (nil: this thread);
/// the result is the same bits for every thread count. `outputRowStride` defaults to `weights.rowCount`.
///
/// Error against the float product is bounded by int8 rounding of x: |dy| <= sum_k |W[n][k]| * amax_b(k)/254
/// (amax of x's block), plus f32 rounding.
public func quantizedMatmul(
    output: UnsafeMutableBufferPointer<Float>, input: QuantizedActivations, weights: QuantizedMatrix,
    outputRowStride: Int? = nil, pool: ThreadPool? = nil, path: KernelPath = .automatic
) throws {
    let rows = input.rowCount
    let stride = outputRowStride ?? weights.rowCount
    guard rows > 0 else {
        throw QuantizedKernelError.invalidShape(what: "activations", rowCount: rows, columnCount: input.columnCount,
                                                reason: "no rows are quantized; call quantizeActivations first")
    }
    guard input.columnCount == weights.columnCount else {
        throw QuantizedKernelError.columnCountMismatch(activations: input.columnCount, weights: weights.columnCount)
    }
    guard input.digitCount == 1 else {
        throw QuantizedKernelError.invalidShape(what: "activations", rowCount: rows, columnCount: input.columnCount,
                                                reason: "this product takes one int8 digit per value; use packedQuantizedMatmul")
    }
    let base = try MatmulBuffers.output(output, rowCount: rows, width: weights.rowCount, stride: stride)
    let cPath = try path.checked(for: .quantized)
    ck_qmatmul(base, stride, input.values, input.scales, input.blockSums, weights.blocks, weights.format.cValue,
               Int32(rows), Int32(weights.rowCount), Int32(weights.columnCount), cPath, pool?.handle)
}
