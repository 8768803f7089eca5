import CKernels

/// Converts `input` to bf16 in `output` (same count): round to nearest even, NaN kept as a quiet NaN,
/// denormals kept. Every path gives identical bits. Use it at load for `weights: bf16`.
public func convertToBF16(output: UnsafeMutableBufferPointer<UInt16>, input: UnsafeBufferPointer<Float>,
                          path: KernelPath = .automatic) throws {
    guard output.count >= input.count else {
        throw QuantizedKernelError.bufferTooSmall(what: "bf16 output", needed: input.count, actual: output.count)
    }
    let cPath = try path.checked(for: .bf16)
    guard let source = input.baseAddress, let destination = output.baseAddress else { return }
    ck_f32_to_bf16(destination, source, input.count, cPath)
}

/// Converts `rowCount` float rows of `output.columnCount` values (row r at `input[r * inputRowStride]`)
/// into the bf16 scratch `output`.
public func convertToBF16(output: BF16Activations, input: UnsafeBufferPointer<Float>, rowCount: Int,
                          inputRowStride: Int? = nil, path: KernelPath = .automatic) throws {
    let columns = output.columnCount
    let stride = inputRowStride ?? columns
    let base = try MatmulBuffers.input(input, rowCount: rowCount, columns: columns, stride: stride,
                                       capacity: output.rowCapacity, what: "bf16 activation input")
    let cPath = try path.checked(for: .bf16)
    for row in 0..<rowCount {
        ck_f32_to_bf16(output.values + row * columns, base + row * stride, columns, cPath)
    }
    output.rowCount = rowCount
}

/// y = x * W^T in bf16 with f32 accumulation: `output[m * outputRowStride + n]` = sum over k of
/// x[m][k] * W[n][k], for the `input.rowCount` rows of x and the `weights.rowCount` rows of W. Work is
/// split over W's rows across `pool` (nil: this thread); the result is the same bits for every thread
/// count. `outputRowStride` defaults to `weights.rowCount`.
public func bf16Matmul(
    output: UnsafeMutableBufferPointer<Float>, input: BF16Activations, weights: BF16Matrix,
    outputRowStride: Int? = nil, pool: ThreadPool? = nil, path: KernelPath = .automatic
) throws {
    let rows = input.rowCount
    let stride = outputRowStride ?? weights.rowCount
    guard rows > 0 else {
        throw QuantizedKernelError.invalidShape(what: "bf16 activations", rowCount: rows, columnCount: input.columnCount,
                                                reason: "no rows are converted; call convertToBF16 first")
    }
    guard input.columnCount == weights.columnCount else {
        throw QuantizedKernelError.columnCountMismatch(activations: input.columnCount, weights: weights.columnCount)
    }
    let base = try MatmulBuffers.output(output, rowCount: rows, width: weights.rowCount, stride: stride)
    let cPath = try path.checked(for: .bf16)
    ck_bf16_matmul(base, stride, input.values, input.columnCount, weights.elements, Int32(rows),
                   Int32(weights.rowCount), Int32(weights.columnCount), cPath, pool?.handle)
}
