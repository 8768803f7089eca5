/// A weight matrix W[rowCount][columnCount] kept in GGUF quantized blocks (never dequantized): row n
/// is `columnCount / 32` consecutive blocks starting at byte `n * rowByteCount`. For a product
/// y = x * W^T, `rowCount` is the output width N and `columnCount` the input width K.
///
/// The matrix does not own its bytes: `blocks` points into the memory-mapped model file or a buffer
/// the caller keeps alive (and unchanged) for as long as the matrix is used. That memory is read-only,
/// which is why the value may cross threads.
public struct QuantizedMatrix: @unchecked Sendable {
    public let format: QuantizedFormat
    /// Output features N (rows of W).
    public let rowCount: Int
    /// Input features K (columns of W), a multiple of 32.
    public let columnCount: Int
    /// The first block of row 0; blocks need no particular alignment.
    public let blocks: UnsafeRawPointer

    /// Wraps `blocks` as a `rowCount` x `columnCount` matrix of `format` blocks; `byteCount` is how many
    /// bytes the caller can vouch for at `blocks` (checked against the shape).
    public init(format: QuantizedFormat, rowCount: Int, columnCount: Int, blocks: UnsafeRawPointer,
                byteCount: Int) throws {
        try QuantizedMatrix.validate(rowCount: rowCount, columnCount: columnCount)
        let needed = QuantizedMatrix.byteCount(format: format, rowCount: rowCount, columnCount: columnCount)
        guard byteCount >= needed else {
            throw QuantizedKernelError.bufferTooSmall(what: "\(format) weight buffer (bytes)", needed: needed,
                                                      actual: byteCount)
        }
        self.format = format
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.blocks = blocks
    }

    /// Bytes per row of blocks.
    public var rowByteCount: Int { columnCount / QuantizedFormat.blockElementCount * format.blockByteCount }

    /// Bytes a `rowCount` x `columnCount` matrix of `format` occupies.
    public static func byteCount(format: QuantizedFormat, rowCount: Int, columnCount: Int) -> Int {
        rowCount * (columnCount / QuantizedFormat.blockElementCount) * format.blockByteCount
    }

    static func validate(rowCount: Int, columnCount: Int) throws {
        guard rowCount > 0, columnCount > 0, rowCount <= Int(Int32.max), columnCount <= Int(Int32.max) else {
            throw QuantizedKernelError.invalidShape(what: "quantized matrix", rowCount: rowCount,
                                                    columnCount: columnCount, reason: "both sizes must be positive")
        }
        guard columnCount % QuantizedFormat.blockElementCount == 0 else {
            throw QuantizedKernelError.invalidShape(
                what: "quantized matrix", rowCount: rowCount, columnCount: columnCount,
                reason: "the column count must be a multiple of the 32-element block")
        }
    }
}
