/// The buffer checks every row-strided kernel entry makes before handing raw pointers to C, in one
/// place: rows of activations read at a stride, and the rows of a product `y = x * W^T` written at a
/// stride. Each returns the base address once the shape and the buffer's size are known to fit.
enum MatmulBuffers {
    /// `rowCount` rows of `columns` floats, row r at `input[r * stride]`, into a scratch holding
    /// `capacity` rows; `what` names the input in errors.
    static func input(_ input: UnsafeBufferPointer<Float>, rowCount: Int, columns: Int, stride: Int, capacity: Int,
                      what: String) throws -> UnsafePointer<Float> {
        guard rowCount > 0, stride >= columns else {
            throw QuantizedKernelError.invalidShape(what: what, rowCount: rowCount, columnCount: stride,
                                                    reason: "rows must be positive and the row stride at least \(columns)")
        }
        guard rowCount <= capacity else {
            throw QuantizedKernelError.rowCountExceedsCapacity(rowCount: rowCount, capacity: capacity)
        }
        let needed = (rowCount - 1) * stride + columns
        guard let base = input.baseAddress, input.count >= needed else {
            throw QuantizedKernelError.bufferTooSmall(what: what, needed: needed, actual: input.count)
        }
        return base
    }

    /// `rowCount` output rows of `width` values, row m at `output[m * stride]`.
    static func output(_ output: UnsafeMutableBufferPointer<Float>, rowCount: Int, width: Int,
                       stride: Int) throws -> UnsafeMutablePointer<Float> {
        guard stride >= width else {
            throw QuantizedKernelError.invalidShape(what: "output", rowCount: rowCount, columnCount: stride,
                                                    reason: "the row stride must be at least \(width)")
        }
        let needed = (rowCount - 1) * stride + width
        guard let base = output.baseAddress, output.count >= needed else {
            throw QuantizedKernelError.bufferTooSmall(what: "output", needed: needed, actual: output.count)
        }
        return base
    }
}
