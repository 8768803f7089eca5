import XCTest
import TestSupport
@testable import Kernels


/// The naive reference the kernels are checked against: GGUF blocks decoded element by element from
/// the format definitions, and products summed in Double. Written independently of the C kernels.
enum QuantizedReference {
    static func half(_ value: Float) -> [UInt8] {
        let bits = Float16(value).bitPattern
        return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
    }

    static func halfValue(_ bytes: [UInt8], _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8))
    }

    /// Checks that a row's result does not depend on which other rows share the batch: for every path
    /// in `paths` (the unsupported ones skipped) and every format, rows 0, 5 and 36 of a 37-row product
    /// computed alone equal their rows of the batched product, bit for bit. `run(format, blocks, x,
    /// shape, path)` is the kernel under test, returning y[M][N].
    static func assertRowsIndependentOfBatch(
        paths: [KernelPath], seed: UInt64,
        run: (QuantizedFormat, [UInt8], [Float], (m: Int, n: Int, k: Int), KernelPath) throws -> [Float],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        var random = TestRandom(seed: seed)
        for path in paths {
            for format in QuantizedFormat.allCases {
                let shape = (m: 37, n: 33, k: 576)
                let blocks = makeBlocks(format, rows: shape.n, columns: shape.k, random: &random)
                let x = random.activations(count: shape.m * shape.k)
                let batched = try run(format, blocks, x, shape, path)
                for m in [0, 5, 36] {
                    let row = Array(x[(m * shape.k)..<((m + 1) * shape.k)])
                    let alone = try run(format, blocks, row, (1, shape.n, shape.k), path)
                    XCTAssertEqual(alone, Array(batched[(m * shape.n)..<((m + 1) * shape.n)]), "\(format) \(path) row \(m)",
                                   file: file, line: line)
                }
            }
        }
    }

    /// Random `rows` x `columns` weights in `format` with scales of realistic size.
    static func makeBlocks(_ format: QuantizedFormat, rows: Int, columns: Int, random: inout TestRandom) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(QuantizedMatrix.byteCount(format: format, rowCount: rows, columnCount: columns))
        for _ in 0..<(rows * columns / 32) {
            switch format {
            case .q4_0:
                bytes += half(random.uniform(0.002, 0.02))
                for _ in 0..<16 { bytes.append(random.byte()) }
            case .q4_1:
                let d = random.uniform(0.002, 0.02)
                bytes += half(d)
                bytes += half(-8 * d + random.uniform(-0.01, 0.01))
                for _ in 0..<16 { bytes.append(random.byte()) }
            case .q8_0:
                bytes += half(random.uniform(0.0005, 0.003))
                for _ in 0..<32 { bytes.append(random.byte()) }
            }
        }
        return bytes
    }

    /// Decodes `rows` x `columns` weights to floats, one element at a time.
    static func dequantize(_ format: QuantizedFormat, _ bytes: [UInt8], rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        let blockBytes = format.blockByteCount
        for block in 0..<(rows * columns / 32) {
            let b = block * blockBytes
            let d = halfValue(bytes, b)
            for i in 0..<32 {
                let value: Float
                switch format {
                case .q4_0:
                    let byte = bytes[b + 2 + i % 16]
                    let q = i < 16 ? Int(byte & 0x0F) : Int(byte >> 4)
                    value = d * Float(q - 8)
                case .q4_1:
                    let byte = bytes[b + 4 + i % 16]
                    let q = i < 16 ? Int(byte & 0x0F) : Int(byte >> 4)
                    value = d * Float(q) + halfValue(bytes, b + 2)
                case .q8_0:
                    value = d * Float(Int8(bitPattern: bytes[b + 2 + i]))
                }
                out[block * 32 + i] = value
            }
        }
        return out
    }

    /// x[rows][K] as the kernels see it after int8 quantization: d * q.
    static func dequantized(_ activations: QuantizedActivations) -> [Float] {
        var out: [Float] = []
        for row in 0..<activations.rowCount {
            let q = activations.values(row: row), d = activations.scales(row: row)
            for k in 0..<activations.columnCount { out.append(d[k / 32] * Float(q[k])) }
        }
        return out
    }

    /// y[m][n] = sum_k x[m][k] * w[n][k] in Double, and the sum of |x*w| (the scale float error scales with).
    static func matmul(_ x: [Float], _ w: [Float], rows: Int, outputs: Int, columns: Int)
        -> (values: [Double], magnitudes: [Double])
    {
        var values = [Double](repeating: 0, count: rows * outputs)
        var magnitudes = [Double](repeating: 0, count: rows * outputs)
        x.withUnsafeBufferPointer { x in
            w.withUnsafeBufferPointer { w in
                for m in 0..<rows {
                    for n in 0..<outputs {
                        var sum = 0.0, magnitude = 0.0
                        for k in 0..<columns {
                            let p = Double(x[m * columns + k]) * Double(w[n * columns + k])
                            sum += p
                            magnitude += abs(p)
                        }
                        values[m * outputs + n] = sum
                        magnitudes[m * outputs + n] = magnitude
                    }
                }
            }
        }
        return (values, magnitudes)
    }

    /// The most int8 rounding of x can move y[m][n]: sum_k |w[n][k]| * amax(block of x[m][k]) / 254.
    static func quantizationBound(_ x: [Float], _ w: [Float], rows: Int, outputs: Int, columns: Int) -> [Double] {
        var bound = [Double](repeating: 0, count: rows * outputs)
        x.withUnsafeBufferPointer { x in
            w.withUnsafeBufferPointer { w in
                var halfStep = [Double](repeating: 0, count: columns)
                for m in 0..<rows {
                    for b in 0..<(columns / 32) {
                        var amax: Float = 0
                        for i in 0..<32 { amax = max(amax, abs(x[m * columns + b * 32 + i])) }
                        for i in 0..<32 { halfStep[b * 32 + i] = Double(amax) / 254 }
                    }
                    for n in 0..<outputs {
                        var sum = 0.0
                        for k in 0..<columns { sum += Double(abs(w[n * columns + k])) * halfStep[k] }
                        bound[m * outputs + n] = sum
                    }
                }
            }
        }
        return bound
    }
}

/// The reference itself, on hand-built blocks whose values are known exactly.
final class QuantizedReferenceTests: XCTestCase {
    func testHandBuiltBlocksDecodeToKnownValues() {
        // Q4_1: d = 0.5, m = -1; byte i holds q = i (low) and 15 - i (high).
        let q41Nibbles: [UInt8] = (0..<16).map { (i: Int) -> UInt8 in UInt8(i) | UInt8(15 - i) << 4 }
        let q41: [UInt8] = QuantizedReference.half(0.5) + QuantizedReference.half(-1) + q41Nibbles
        let q41Values = QuantizedReference.dequantize(.q4_1, q41, rows: 1, columns: 32)
        let q41Expected: [Float] = (0..<32).map { (i: Int) -> Float in
            let q = i < 16 ? i : 31 - i
            return 0.5 * Float(q) - 1
        }
        XCTAssertEqual(q41Values, q41Expected)

        // Q4_0: d = 0.25, same nibbles; x = d * (q - 8).
        let nibbles: [UInt8] = (0..<16).map { (i: Int) -> UInt8 in UInt8(i) | UInt8(15 - i) << 4 }
        let q40: [UInt8] = QuantizedReference.half(0.25) + nibbles
        let q40Values = QuantizedReference.dequantize(.q4_0, q40, rows: 1, columns: 32)
        let q40Expected: [Float] = (0..<32).map { (i: Int) -> Float in
            let q = i < 16 ? i : 31 - i
            return 0.25 * Float(q - 8)
        }
        XCTAssertEqual(q40Values, q40Expected)

        // Q8_0: d = 2, q = i - 16.
        let q80Values: [UInt8] = (0..<32).map { (i: Int) -> UInt8 in UInt8(bitPattern: Int8(i - 16)) }
        let q80: [UInt8] = QuantizedReference.half(2) + q80Values
        let q80Expected: [Float] = (0..<32).map { (i: Int) -> Float in 2 * Float(i - 16) }
        XCTAssertEqual(QuantizedReference.dequantize(.q8_0, q80, rows: 1, columns: 32), q80Expected)
    }

    func testKernelsMatchHandBuiltBlocks() throws {
        // x = 1 everywhere quantizes to q = 127, d = 1/127, so y = sum of the block's values.
        let q41Nibbles: [UInt8] = (0..<16).map { (i: Int) -> UInt8 in UInt8(i) | UInt8(15 - i) << 4 }
        let q41: [UInt8] = QuantizedReference.half(0.5) + QuantizedReference.half(-1) + q41Nibbles
        let expected = QuantizedReference.dequantize(.q4_1, q41, rows: 1, columns: 32).reduce(0, +)
        let activations = try QuantizedActivations(rowCapacity: 1, columnCount: 32)
        try [Float](repeating: 1, count: 32).withUnsafeBufferPointer {
            try quantizeActivations(output: activations, input: $0, rowCount: 1)
        }
        for path in [KernelPath.scalar, .avx2, .avxVNNI, .avx512] where path.isSupported(for: .packed) {
            var y: [Float] = [0]
            try q41.withUnsafeBytes { raw in
                let w = try PackedQuantizedMatrix(QuantizedMatrix(format: .q4_1, rowCount: 1, columnCount: 32,
                                                                  blocks: raw.baseAddress!, byteCount: raw.count))
                try y.withUnsafeMutableBufferPointer {
                    try packedQuantizedMatmul([PackedProduct(output: $0, weights: w)], input: activations, path: path)
                }
            }
            XCTAssertEqual(y[0], expected, accuracy: 1e-4, "\(path)")
        }
    }
}
