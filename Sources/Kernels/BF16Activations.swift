/// Scratch for up to `rowCapacity` activation rows of `columnCount` values converted to bf16, the input
/// side of `bf16Matmul`. Created once per layer width and reused every step; owned by one thread at a
/// time, so not Sendable.
public final class BF16Activations {
    /// Rows the buffer holds.
    public let rowCapacity: Int
    /// Values per row (K).
    public let columnCount: Int
    /// Rows filled by the last `convertToBF16(output:input:rowCount:)` call.
    public internal(set) var rowCount: Int = 0

    /// bf16 values, [rowCapacity][columnCount].
    let values: UnsafeMutablePointer<UInt16>

    public init(rowCapacity: Int, columnCount: Int) throws {
        guard rowCapacity > 0, columnCount > 0, rowCapacity <= Int(Int32.max), columnCount <= Int(Int32.max) else {
            throw QuantizedKernelError.invalidShape(what: "bf16 activation scratch", rowCount: rowCapacity,
                                                    columnCount: columnCount, reason: "both sizes must be positive")
        }
        self.rowCapacity = rowCapacity
        self.columnCount = columnCount
        values = UnsafeMutableRawPointer.allocate(byteCount: rowCapacity * columnCount * 2, alignment: 64)
            .bindMemory(to: UInt16.self, capacity: rowCapacity * columnCount)
    }

    deinit {
        values.deallocate()
    }

    /// The bf16 values of `row` (< rowCount).
    public func values(row: Int) -> UnsafeBufferPointer<UInt16> {
        UnsafeBufferPointer(start: values + row * columnCount, count: columnCount)
    }
}
