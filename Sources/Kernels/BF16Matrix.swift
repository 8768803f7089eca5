/// A weight matrix W[rowCount][columnCount] in bf16 (the top 16 bits of an f32), row-major: the
/// `weights: bf16` option, half the bytes of f32 with f32's range. For y = x * W^T, `rowCount` is the
/// output width N and `columnCount` the input width K (any K >= 1).
///
/// The matrix does not own its elements: the caller keeps them alive and unchanged while the matrix is
/// used (typically a buffer filled once at load with `convertToBF16`), which is why the value may cross
/// threads.
public struct BF16Matrix: @unchecked Sendable {
    /// Output features N (rows of W).
    public let rowCount: Int
    /// Input features K (columns of W).
    public let columnCount: Int
    /// Element [n][k] is at `elements[n * columnCount + k]`.
    public let elements: UnsafePointer<UInt16>

    /// Wraps `elements` (at least rowCount * columnCount of them) as a matrix.
    public init(rowCount: Int, columnCount: Int, elements: UnsafeBufferPointer<UInt16>) throws {
        guard rowCount > 0, columnCount > 0, rowCount <= Int(Int32.max), columnCount <= Int(Int32.max) else {
            throw QuantizedKernelError.invalidShape(what: "bf16 matrix", rowCount: rowCount, columnCount: columnCount,
                                                    reason: "both sizes must be positive")
        }
        guard let base = elements.baseAddress, elements.count >= rowCount * columnCount else {
            throw QuantizedKernelError.bufferTooSmall(what: "bf16 weight buffer", needed: rowCount * columnCount,
                                                      actual: elements.count)
        }
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.elements = base
    }
}
