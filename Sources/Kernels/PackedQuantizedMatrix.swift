import CKernels

/// A block-quantized weight matrix W[rowCount][columnCount] repacked once at load for one-row int8
/// products: 16 rows interleaved per 32-element block (layout in CKernelsPacked.h), so one broadcast of
/// 4 activation bytes feeds 16 rows' dot products and a group's blocks stream from memory in order.
///
/// Owns its bytes (a 64-byte-aligned copy, about the size of the GGUF blocks: 20 bytes per 32 Q4_1
/// weights, 36 per 32 Q8_0), immutable after `init`, so it may cross threads.
public final class PackedQuantizedMatrix: @unchecked Sendable {
    public let format: QuantizedFormat
    /// Output features N (rows of W).
    public let rowCount: Int
    /// Input features K (columns of W), a multiple of 32.
    public let columnCount: Int
    /// Bytes of the packed copy.
    public let byteCount: Int
    let bytes: UnsafeMutableRawPointer

    /// Repacks `matrix`'s blocks (which need only outlive this call).
    public init(_ matrix: QuantizedMatrix) throws {
        let size = ck_qpack_bytes(matrix.format.cValue, Int32(matrix.rowCount), Int32(matrix.columnCount))
        guard size > 0 else {
            throw QuantizedKernelError.invalidShape(what: "packed matrix", rowCount: matrix.rowCount,
                                                    columnCount: matrix.columnCount, reason: "no packed form for this shape")
        }
        format = matrix.format
        rowCount = matrix.rowCount
        columnCount = matrix.columnCount
        byteCount = size
        bytes = .allocate(byteCount: size, alignment: 64)
        guard ck_qpack(bytes, matrix.blocks, format.cValue, Int32(rowCount), Int32(columnCount)) != 0 else {
            bytes.deallocate()
            throw QuantizedKernelError.invalidShape(what: "packed matrix", rowCount: rowCount, columnCount: columnCount,
                                                    reason: "repacking refused the shape")
        }
    }

    deinit { bytes.deallocate() }
}

/// One product of `packedQuantizedMatmul`: `output[m * outputRowStride + n]` for n < `weights.rowCount`
/// (`outputRowStride` nil: `weights.rowCount`).
public struct PackedProduct {
    public let output: UnsafeMutableBufferPointer<Float>
    public let weights: PackedQuantizedMatrix
    public let outputRowStride: Int?

    public init(output: UnsafeMutableBufferPointer<Float>, weights: PackedQuantizedMatrix, outputRowStride: Int? = nil) {
        self.output = output
        self.weights = weights
        self.outputRowStride = outputRowStride
    }
}

/// y_i = x * W_i^T for every product, with x the `input.rowCount` int8-quantized rows: int8 x packed
/// block dot products (two-digit activations: two dot products per chunk, 1/128 of the rounding error). Products that share an input (q, k, v;
/// gate, up) are one job on `pool` (nil: this thread): the pool is woken once for all of them. A row's
/// result does not depend on the batch or the thread count; the error against the float product is
/// bounded by int8 rounding of x, |dy| <= sum_k |W[n][k]| * amax_b(k)/254 (amax of x's block), or 1/128
/// of it with two digits, plus f32 rounding.
public func packedQuantizedMatmul(
    _ products: [PackedProduct], input: QuantizedActivations, pool: ThreadPool? = nil, path: KernelPath = .automatic
) throws {
    let rows = input.rowCount
    guard rows > 0 else {
        throw QuantizedKernelError.invalidShape(what: "activations", rowCount: rows, columnCount: input.columnCount,
                                                reason: "no rows are quantized; call quantizeActivations first")
    }
    var descriptors: [ck_qpacked_product] = []
    descriptors.reserveCapacity(products.count)
    for product in products {
        let w = product.weights
        guard input.columnCount == w.columnCount else {
            throw QuantizedKernelError.columnCountMismatch(activations: input.columnCount, weights: w.columnCount)
        }
        let stride = product.outputRowStride ?? w.rowCount
        let base = try MatmulBuffers.output(product.output, rowCount: rows, width: w.rowCount, stride: stride)
        descriptors.append(ck_qpacked_product(y: base, ldy: stride, packed: w.bytes, format: w.format.cValue, N: Int32(w.rowCount)))
    }
    let cPath = try path.checked(for: .packed)
    descriptors.withUnsafeBufferPointer {
        ck_qpacked_matmul($0.baseAddress, Int32($0.count), input.values, input.lowValues, input.scales, input.blockSums,
                          Int32(rows), Int32(input.columnCount), cPath, pool?.handle)
    }
}
