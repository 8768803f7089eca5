import CKernels

/// Scratch for activations quantized to int8 blocks: up to `rowCapacity` rows (tokens) of
/// `columnCount` values, each block of 32 stored as 32 int8 `values` with one float `scale` d and one
/// float `blockSum` s = d * sum(q). (s carries Q4_1's `m` term and the zero points of Q4_0/Q8_0.)
///
/// With `digitCount` 2 each value is about 15 bits in two int8 digits (`ck_quantize_rows_q8x2`):
/// `values` holds the high digits and `lowValues` the low ones, for products that take two int8 dot
/// products per weight chunk (`packedQuantizedMatmul`) at 1/128 of the int8 rounding error.
///
/// Created once per layer width and reused every step; `quantizeActivations` fills it and
/// `packedQuantizedMatmul` reads it. Owned by one thread at a time (the engine thread), so it is not Sendable.
public final class QuantizedActivations {
    /// Rows the buffers hold.
    public let rowCapacity: Int
    /// Values per row (K), a multiple of 32.
    public let columnCount: Int
    /// int8 digits per value: 1, or 2 (high and low).
    public let digitCount: Int
    /// Rows filled by the last `quantizeActivations` call.
    public internal(set) var rowCount: Int = 0

    /// int8 values, [rowCapacity][columnCount].
    let values: UnsafeMutablePointer<Int8>
    /// The low digits when `digitCount` is 2, [rowCapacity][columnCount]; nil otherwise.
    let lowValues: UnsafeMutablePointer<Int8>?
    /// Block scales d, [rowCapacity][columnCount / 32].
    let scales: UnsafeMutablePointer<Float>
    /// Block sums s = d * sum(q), [rowCapacity][columnCount / 32].
    let blockSums: UnsafeMutablePointer<Float>

    /// Blocks per row.
    public var blockCount: Int { columnCount / QuantizedFormat.blockElementCount }

    public init(rowCapacity: Int, columnCount: Int, digitCount: Int = 1) throws {
        guard rowCapacity > 0, rowCapacity <= Int(Int32.max) else {
            throw QuantizedKernelError.invalidShape(what: "activation scratch", rowCount: rowCapacity,
                                                    columnCount: columnCount, reason: "the row capacity must be positive")
        }
        try QuantizedMatrix.validate(rowCount: rowCapacity, columnCount: columnCount)
        guard digitCount == 1 || digitCount == 2 else {
            throw QuantizedKernelError.invalidShape(what: "activation scratch", rowCount: rowCapacity, columnCount: columnCount,
                                                    reason: "activations have 1 or 2 int8 digits, not \(digitCount)")
        }
        self.digitCount = digitCount
        self.rowCapacity = rowCapacity
        self.columnCount = columnCount
        let blocks = rowCapacity * (columnCount / QuantizedFormat.blockElementCount)
        values = UnsafeMutableRawPointer.allocate(byteCount: rowCapacity * columnCount, alignment: 64)
            .bindMemory(to: Int8.self, capacity: rowCapacity * columnCount)
        lowValues = digitCount == 2
            ? UnsafeMutableRawPointer.allocate(byteCount: rowCapacity * columnCount, alignment: 64)
                .bindMemory(to: Int8.self, capacity: rowCapacity * columnCount)
            : nil
        scales = UnsafeMutableRawPointer.allocate(byteCount: blocks * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: blocks)
        blockSums = UnsafeMutableRawPointer.allocate(byteCount: blocks * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: blocks)
    }

    deinit {
        values.deallocate()
        lowValues?.deallocate()
        scales.deallocate()
        blockSums.deallocate()
    }

    /// The int8 values of `row` (< rowCount).
    public func values(row: Int) -> UnsafeBufferPointer<Int8> {
        UnsafeBufferPointer(start: values + row * columnCount, count: columnCount)
    }

    /// The block scales d of `row` (< rowCount).
    public func scales(row: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: scales + row * blockCount, count: blockCount)
    }

    /// The block sums s = d * sum(q) of `row` (< rowCount).
    public func blockSums(row: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: blockSums + row * blockCount, count: blockCount)
    }
}

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
