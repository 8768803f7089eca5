import GGUF
import Kernels

/// A linear layer's weight matrix `[outputWidth][inputWidth]` (GGUF's `[out][in]` row layout) in one of
/// three storages, and the product `y = x · Wᵀ` over a batch of rows.
public struct LinearWeight: @unchecked Sendable {
    public enum Storage {
        case float([Float])
        /// IEEE half bit patterns (a HAMburger adapter's F16 tensors), widened exactly as they are read.
        case half([UInt16])
        /// Blocks in place in the mapped model file (kept alive by `LlamaWeights.file`), multiplied
        /// against Float activations.
        case quantized(QuantizedMatrix)
        /// The same blocks, multiplied against int8-quantized activations.
        case quantizedInt8(QuantizedMatrix)
        case bf16(BF16Matrix, BF16Buffer)
    }

    public let outputWidth: Int
    public let inputWidth: Int
    public let storage: Storage

    public init(outputWidth: Int, inputWidth: Int, storage: Storage) {
        self.outputWidth = outputWidth
        self.inputWidth = inputWidth
        self.storage = storage
    }

    /// A Float matrix `[outputWidth][inputWidth]` (row-major), e.g. a HAMburger adapter's weights.
    public static func float(_ values: [Float], outputWidth: Int, inputWidth: Int) -> LinearWeight {
        precondition(values.count == outputWidth * inputWidth, "a [\(outputWidth)][\(inputWidth)] matrix needs \(outputWidth * inputWidth) values")
        return LinearWeight(outputWidth: outputWidth, inputWidth: inputWidth, storage: .float(values))
    }

    /// A half-precision matrix `[outputWidth][inputWidth]` (IEEE half bit patterns, row-major).
    public static func half(_ bits: [UInt16], outputWidth: Int, inputWidth: Int) -> LinearWeight {
        precondition(bits.count == outputWidth * inputWidth, "a [\(outputWidth)][\(inputWidth)] matrix needs \(outputWidth * inputWidth) values")
        return LinearWeight(outputWidth: outputWidth, inputWidth: inputWidth, storage: .half(bits))
    }

    /// `[rows][outputWidth]` = `input · Wᵀ` for the `rows` rows of `input` (`[rows][inputWidth]`).
    public func apply(_ input: [Float], rows: Int, pool: ThreadPool?) -> [Float] {
        guard rows > 0 else { return [] }
        precondition(input.count >= rows * inputWidth, "linear input holds \(input.count) values, not \(rows) rows of \(inputWidth)")
        var output = [Float](repeating: 0, count: rows * outputWidth)
        input.withUnsafeBufferPointer { i in
            let shared = LinearInput(values: i.baseAddress!, rows: rows, width: inputWidth)
            output.withUnsafeMutableBufferPointer { apply(to: shared, output: $0.baseAddress!, pool: pool) }
        }
        return output
    }

    /// Loads tensor `info` of `file` in `precision`.
    static func load(_ info: GGUFTensorInfo, from file: GGUFFile, precision: WeightPrecision) throws -> LinearWeight {
        let out = info.rowCount, inner = info.rowLength
        if precision == .native || precision == .nativeInt8, let format = QuantizedFormat(ggmlTypeID: info.type.rawValue) {
            let bytes = file.tensorData(info)
            let matrix = try QuantizedMatrix(format: format, rowCount: out, columnCount: inner, blocks: bytes.baseAddress!, byteCount: bytes.count)
            return LinearWeight(outputWidth: out, inputWidth: inner, storage: precision == .native ? .quantized(matrix) : .quantizedInt8(matrix))
        }
        let values = try file.dequantize(info)
        if precision == .bf16 {
            let buffer = BF16Buffer(count: values.count)
            try values.withUnsafeBufferPointer { try convertToBF16(output: buffer.elements, input: $0) }
            let matrix = try BF16Matrix(rowCount: out, columnCount: inner, elements: UnsafeBufferPointer(buffer.elements))
            return LinearWeight(outputWidth: out, inputWidth: inner, storage: .bf16(matrix, buffer))
        }
        return LinearWeight(outputWidth: out, inputWidth: inner, storage: .float(values))
    }

    /// Bytes the weights take in memory (or in the mapping).
    public var byteCount: Int {
        switch storage {
        case let .float(v): return v.count * 4
        case let .half(v): return v.count * 2
        case let .quantized(m), let .quantizedInt8(m): return QuantizedMatrix.byteCount(format: m.format, rowCount: m.rowCount, columnCount: m.columnCount)
        case .bf16: return outputWidth * inputWidth * 2
        }
    }

    /// `output[rows][outputWidth] = input · Wᵀ` for the rows of `input`.
    func apply(to input: LinearInput, output: UnsafeMutablePointer<Float>, pool: ThreadPool?) {
        precondition(input.width == inputWidth, "linear input width \(input.width) != \(inputWidth)")
        let out = UnsafeMutableBufferPointer(start: output, count: input.rows * outputWidth)
        do {
            switch storage {
            case let .float(values):
                values.withUnsafeBufferPointer { w in
                    matmulTransposed(output: output, input: input.values, weights: w.baseAddress!,
                                     rowCount: input.rows, inputWidth: inputWidth, outputWidth: outputWidth, pool: pool)
                }
            case let .half(bits):
                try bits.withUnsafeBufferPointer { w in
                    try halfWeightMatmul(output: output, input: input.values, weights: w.baseAddress!, rowCount: input.rows,
                                         inputWidth: inputWidth, outputWidth: outputWidth, pool: pool)
                }
            case let .quantized(matrix):
                try quantizedFloatMatmul(output: out, input: UnsafeBufferPointer(start: input.values, count: input.rows * input.width),
                                         rowCount: input.rows, weights: matrix, pool: pool)
            case let .quantizedInt8(matrix):
                try quantizedMatmul(output: out, input: try input.quantized(), weights: matrix, pool: pool)
            case let .bf16(matrix, _):
                try bf16Matmul(output: out, input: try input.bf16(), weights: matrix, pool: pool)
            }
        } catch {
            preconditionFailure("linear layer kernel failed on shapes checked at load: \(error)")
        }
    }
}

/// An owned, aligned bf16 buffer that outlives the `BF16Matrix` pointing into it.
public final class BF16Buffer: @unchecked Sendable {
    public let elements: UnsafeMutableBufferPointer<UInt16>
    init(count: Int) { elements = .allocate(capacity: count) }
    deinit { elements.deallocate() }
}

/// The rows fed to one or more linear layers: Float values, converted at most once per format (so q, k
/// and v — or gate and up — share one int8 quantization of their common input).
final class LinearInput {
    let values: UnsafePointer<Float>
    let rows: Int
    let width: Int
    private var q8: QuantizedActivations?
    private var b16: BF16Activations?

    init(values: UnsafePointer<Float>, rows: Int, width: Int) {
        self.values = values
        self.rows = rows
        self.width = width
    }

    /// The rows as int8 blocks (quantized on first use).
    func quantized() throws -> QuantizedActivations {
        try Self.once(&q8) {
            let q = try QuantizedActivations(rowCapacity: rows, columnCount: width)
            try quantizeActivations(output: q, input: all, rowCount: rows)
            return q
        }
    }

    /// The rows as bf16 (converted on first use).
    func bf16() throws -> BF16Activations {
        try Self.once(&b16) {
            let b = try BF16Activations(rowCapacity: rows, columnCount: width)
            try convertToBF16(output: b, input: all, rowCount: rows)
            return b
        }
    }

    private var all: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: values, count: rows * width) }

    /// `slot`'s value, made by `make` and kept there the first time.
    private static func once<T>(_ slot: inout T?, _ make: () throws -> T) rethrows -> T {
        if let value = slot { return value }
        let value = try make()
        slot = value
        return value
    }
}
