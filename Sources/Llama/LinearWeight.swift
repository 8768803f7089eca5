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
        /// The same blocks repacked at load (16 rows interleaved per block), multiplied against
        /// activations quantized to `digits` int8 digits (1 or 2) with integer dot products.
        case packedInt8(PackedQuantizedMatrix, digits: Int)
        /// An LM head for int8 products: a Q4_1 copy read in full, each row's best outputs recomputed
        /// from the blocks in place against the float activations (`ShortlistedMatrix`).
        case shortlistedInt8(ShortlistedMatrix)
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

    /// Loads tensor `info` of `file` in `precision`. `shortlisted` (an LM head): in `nativeInt8` (the
    /// fastest, least exact precision), an 8-bit matrix is kept as a Q4_1 copy whose best outputs are
    /// recomputed from the original (`ShortlistedMatrix`), the head's bytes read per step cut by 40%;
    /// `nativeInt8x2` keeps the head's own blocks (the copy's errors on the other logits alone move the
    /// perplexity by about 0.5%).
    static func load(_ info: GGUFTensorInfo, from file: GGUFFile, precision: WeightPrecision, shortlisted: Bool = false) throws -> LinearWeight {
        let out = info.rowCount, inner = info.rowLength
        if precision == .native || precision == .nativeInt8 || precision == .nativeInt8x2, let format = QuantizedFormat(ggmlTypeID: info.type.rawValue) {
            let bytes = file.tensorData(info)
            let matrix = try QuantizedMatrix(format: format, rowCount: out, columnCount: inner, blocks: bytes.baseAddress!, byteCount: bytes.count)
            let storage: Storage
            switch precision {
            case .native: storage = .quantized(matrix)
            case .nativeInt8 where shortlisted && format == .q8_0: storage = .shortlistedInt8(try ShortlistedMatrix(matrix))
            default: storage = .packedInt8(try PackedQuantizedMatrix(matrix), digits: precision == .nativeInt8x2 ? 2 : 1)
            }
            return LinearWeight(outputWidth: out, inputWidth: inner, storage: storage)
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
        case let .quantized(m): return QuantizedMatrix.byteCount(format: m.format, rowCount: m.rowCount, columnCount: m.columnCount)
        case let .packedInt8(m, _): return m.byteCount
        case let .shortlistedInt8(m): return m.byteCount
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
            case let .packedInt8(matrix, digits):
                try packedQuantizedMatmul([PackedProduct(output: out, weights: matrix)], input: try input.quantized(digits: digits), pool: pool)
            case let .shortlistedInt8(matrix):
                try shortlistedMatmul(output: out, input: try input.quantized(),
                                      floatInput: UnsafeBufferPointer(start: input.values, count: input.rows * input.width),
                                      weights: matrix, pool: pool)
            case let .bf16(matrix, _):
                try bf16Matmul(output: out, input: try input.bf16(), weights: matrix, pool: pool)
            }
        } catch {
            preconditionFailure("linear layer kernel failed on shapes checked at load: \(error)")
        }
    }
}

extension LinearWeight {
    /// `outputs[i][rows][weights[i].outputWidth] = input · weights[i]ᵀ` for layers that share their input
    /// (q, k and v; gate and up): with packed int8 weights, one pool job for all of them (the pool is
    /// woken once instead of once per matrix); otherwise one product after another.
    static func apply(_ weights: [LinearWeight], to input: LinearInput, outputs: [UnsafeMutablePointer<Float>], pool: ThreadPool?) {
        precondition(weights.count == outputs.count, "one output per weight")
        var products: [PackedProduct] = []
        var digitCounts: Set<Int> = []
        for (weight, output) in zip(weights, outputs) {
            guard case let .packedInt8(matrix, digits) = weight.storage, weight.inputWidth == input.width else { break }
            digitCounts.insert(digits)
            products.append(PackedProduct(output: UnsafeMutableBufferPointer(start: output, count: input.rows * weight.outputWidth), weights: matrix))
        }
        guard products.count == weights.count, digitCounts.count == 1 else {
            for (weight, output) in zip(weights, outputs) { weight.apply(to: input, output: output, pool: pool) }
            return
        }
        do {
            try packedQuantizedMatmul(products, input: try input.quantized(digits: digitCounts.first!), pool: pool)
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
    private var q8x2: QuantizedActivations?
    private var b16: BF16Activations?

    init(values: UnsafePointer<Float>, rows: Int, width: Int) {
        self.values = values
        self.rows = rows
        self.width = width
    }

    /// The rows as int8 blocks of `digits` digits per value (quantized on first use).
    func quantized(digits: Int = 1) throws -> QuantizedActivations {
        let make = {
            let q = try QuantizedActivations(rowCapacity: self.rows, columnCount: self.width, digitCount: digits)
            try quantizeActivations(output: q, input: self.all, rowCount: self.rows)
            return q
        }
        return digits == 2 ? try Self.once(&q8x2, make) : try Self.once(&q8, make)
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
