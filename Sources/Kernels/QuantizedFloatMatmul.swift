import CKernels

/// y = x * W^T with float activations and block-quantized weights: `output[m * outputRowStride + n]` =
/// sum over k of x[m][k] * W[n][k], for `rowCount` float rows of x (row m starts at
/// `input[m * inputRowStride]`) and the `weights.rowCount` rows of W. Each weight block is decoded to
/// floats inside the kernel (Q4_0: d*(q-8), Q4_1: d*q + m, Q8_0: d*q) and multiplied in f32 with fused
/// multiply-adds, so, unlike `packedQuantizedMatmul`, x is never rounded to int8: the result is the float
/// product with the dequantized weights up to f32 rounding (about 1e-6 of sum_k |x_k * W[n][k]|).
///
/// Each output element is summed in a fixed order on a given path, so a row gets the same bits alone or
/// in any batch, and for every thread count of `pool` (nil: this thread). Work is split over W's rows.
/// `inputRowStride` defaults to `weights.columnCount`, `outputRowStride` to `weights.rowCount`.
/// The AVX-512 path is offered where `KernelPath.avx512.isSupported(for: .quantized)`.
public func quantizedFloatMatmul(
    output: UnsafeMutableBufferPointer<Float>, input: UnsafeBufferPointer<Float>, rowCount: Int,
    inputRowStride: Int? = nil, weights: QuantizedMatrix, outputRowStride: Int? = nil, pool: ThreadPool? = nil,
    path: KernelPath = .automatic
) throws {
    let columns = weights.columnCount
    let inStride = inputRowStride ?? columns
    let outStride = outputRowStride ?? weights.rowCount
    guard rowCount > 0, rowCount <= Int(Int32.max), inStride >= columns else {
        throw QuantizedKernelError.invalidShape(
            what: "float activation input", rowCount: rowCount, columnCount: inStride,
            reason: "rows must be positive and the row stride at least the weights' \(columns) columns")
    }
    let inputNeeded = (rowCount - 1) * inStride + columns
    guard let source = input.baseAddress, input.count >= inputNeeded else {
        throw QuantizedKernelError.bufferTooSmall(what: "float activation input", needed: inputNeeded,
                                                  actual: input.count)
    }
    let destination = try MatmulBuffers.output(output, rowCount: rowCount, width: weights.rowCount, stride: outStride)
    let cPath = try path.checked(for: .quantized)
    ck_qmatmul_f32(destination, outStride, source, inStride, weights.blocks, weights.format.cValue, Int32(rowCount),
                   Int32(weights.rowCount), Int32(columns), cPath, pool?.handle)
}
