import XCTest
import TestSupport
@testable import Kernels

/// `quantizedFloatMatmul` (float activations x Q4_0/Q4_1/Q8_0 weight blocks) on every forced path against
/// a naive reference: blocks decoded element by element by the decoder below (written from the GGUF
/// format definitions, independently of the C kernels) and products summed in Double.
///
/// Tolerance per output element: |y - y_ref| <= 1e-5 * sum_k |w_k * x_k| + 1e-30 (f32 rounding of the
/// decoded weight and of the f32 sums; no int8 rounding of x is involved).
final class QuantizedFloatMatmulTests: XCTestCase {
    static let paths: [KernelPath] = [.scalar, .avx2, .avx512]

    /// Every N with every K; M cycles through 1, 3, 16, 37, 130 so each M meets several N and K.
    static let shapes: [(m: Int, n: Int, k: Int)] = {
        let ns = [1, 7, 33, 577], ks = [32, 64, 576, 1536], ms = [1, 3, 16, 37, 130]
        var shapes: [(Int, Int, Int)] = []
        for (i, n) in ns.enumerated() {
            for (j, k) in ks.enumerated() { shapes.append((ms[(i + j) % 5], n, k)) }
        }
        shapes.append((5, 9, 544))  // 5 rows: the first count that takes the 8-row tiles
        return shapes
    }()

    struct Fixture: Sendable {
        let format: QuantizedFormat
        let shape: (m: Int, n: Int, k: Int)
        let blocks: [UInt8]
        let x: [Float]
        let reference: [Double]
        let tolerance: [Double]
    }

    static let fixtures: [Fixture] = {
        var random = TestRandom(seed: 23)
        var fixtures: [Fixture] = []
        for format in QuantizedFormat.allCases {
            for shape in shapes {
                let blocks = FloatMatmulReference.makeBlocks(format, rows: shape.n, columns: shape.k, random: &random)
                let x = random.activations(count: shape.m * shape.k)
                let w = FloatMatmulReference.decode(format, blocks, rows: shape.n, columns: shape.k)
                let (values, magnitudes) = FloatMatmulReference.product(x, w, m: shape.m, n: shape.n, k: shape.k)
                fixtures.append(Fixture(format: format, shape: shape, blocks: blocks, x: x, reference: values,
                                        tolerance: magnitudes.map { 1e-5 * $0 + 1e-30 }))
            }
        }
        return fixtures
    }()

    func testScalarPathMatchesReference() throws { try checkPath(.scalar) }

    func testAVX2PathMatchesReference() throws {
        try XCTSkipUnless(KernelPath.avx2.isSupported(for: .quantized), "this CPU has no AVX2")
        try checkPath(.avx2)
    }

    func testAVX512PathMatchesReference() throws {
        try XCTSkipUnless(KernelPath.avx512.isSupported(for: .quantized), "this CPU has no AVX-512")
        try checkPath(.avx512)
    }

    func testAutomaticPathMatchesReference() throws { try checkPath(.automatic) }

    private func checkPath(_ path: KernelPath) throws {
        var checked = 0
        for f in Self.fixtures {
            let y = try product(f.format, f.blocks, f.x, f.shape, path: path)
            var failures = 0
            for i in y.indices where failures < 5 {
                let error = abs(Double(y[i]) - f.reference[i])
                if !(error <= f.tolerance[i]) {
                    failures += 1
                    XCTFail("\(f.format) \(path) M=\(f.shape.m) N=\(f.shape.n) K=\(f.shape.k) y[\(i / f.shape.n)]"
                        + "[\(i % f.shape.n)] = \(y[i]); reference \(f.reference[i]), error \(error), allowed \(f.tolerance[i])")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100_000)
    }

    /// Runs the kernel on y[M][N] (filled with NaN first, so unwritten elements fail).
    private func product(_ format: QuantizedFormat, _ blocks: [UInt8], _ x: [Float], _ shape: (m: Int, n: Int, k: Int),
                         inputRowStride: Int? = nil, path: KernelPath, pool: ThreadPool? = nil) throws -> [Float] {
        var y = [Float](repeating: .nan, count: shape.m * shape.n)
        try blocks.withUnsafeBytes { raw in
            let w = try QuantizedMatrix(format: format, rowCount: shape.n, columnCount: shape.k,
                                        blocks: raw.baseAddress!, byteCount: raw.count)
            try x.withUnsafeBufferPointer { input in
                try y.withUnsafeMutableBufferPointer {
                    try quantizedFloatMatmul(output: $0, input: input, rowCount: shape.m, inputRowStride: inputRowStride,
                                             weights: w, pool: pool, path: path)
                }
            }
        }
        return y
    }

    /// Hand-built blocks: with x the 32 x 32 identity, y[r][0] is weight r, so the element order (low
    /// nibble = element j, high = j + 16) and each format's formula are checked exactly.
    func testHandBuiltBlocksDecodeToKnownWeights() throws {
        var identity = [Float](repeating: 0, count: 32 * 32)
        for r in 0..<32 { identity[r * 32 + r] = 1 }
        // Byte j holds element j (low nibble, value j) and element j + 16 (high nibble, value 15 - j).
        let nibbles: [UInt8] = (0..<16).map { (j: Int) -> UInt8 in UInt8(j) | UInt8(15 - j) << 4 }
        let q4: [Float] = (0..<32).map { (i: Int) -> Float in Float(i < 16 ? i : 31 - i) }
        let q8: [Int] = (0..<32).map { (i: Int) -> Int in i * 8 - 128 }
        let q4_0Block: [UInt8] = FloatMatmulReference.half(0.5) + nibbles
        let q4_1Block: [UInt8] = FloatMatmulReference.half(0.25) + FloatMatmulReference.half(-1) + nibbles
        let q8_0Block: [UInt8] = FloatMatmulReference.half(0.125) + q8.map { UInt8(bitPattern: Int8($0)) }
        let cases: [(QuantizedFormat, [UInt8], [Float])] = [
            (.q4_0, q4_0Block, q4.map { (q: Float) -> Float in 0.5 * (q - 8) }),
            (.q4_1, q4_1Block, q4.map { (q: Float) -> Float in 0.25 * q - 1 }),
            (.q8_0, q8_0Block, q8.map { (q: Int) -> Float in 0.125 * Float(q) }),
        ]
        for path in Self.paths where path.isSupported(for: .quantized) {
            for (format, block, expected) in cases {
                let y = try product(format, block, identity, (32, 1, 32), path: path)
                XCTAssertEqual(y, expected, "\(format) \(path)")
            }
        }
    }

    /// A row gets the same bits alone (even read through a row stride) as in a batch of 37, wherever it
    /// sits in the batch's tiles, so batched decoding gives the same logits as decoding alone.
    func testRowsDoNotDependOnTheBatch() throws {
        var random = TestRandom(seed: 29)
        for path in Self.paths where path.isSupported(for: .quantized) {
            for format in QuantizedFormat.allCases {
                let shape = (m: 37, n: 35, k: 576)
                let blocks = FloatMatmulReference.makeBlocks(format, rows: shape.n, columns: shape.k, random: &random)
                let x = random.activations(count: shape.m * shape.k)
                let batched = try product(format, blocks, x, shape, path: path)
                for m in [0, 3, 5, 8, 17, 36] {
                    let expected = Array(batched[(m * shape.n)..<((m + 1) * shape.n)])
                    let row = Array(x[(m * shape.k)..<((m + 1) * shape.k)])
                    XCTAssertEqual(try product(format, blocks, row, (1, shape.n, shape.k), path: path), expected,
                                   "\(format) \(path) row \(m) alone")
                    // The same row as row 1 of 2, read with a padded stride.
                    let padded = [Float](repeating: 3, count: shape.k + 7) + row
                    let pair = try product(format, blocks, padded, (2, shape.n, shape.k), inputRowStride: shape.k + 7,
                                           path: path)
                    XCTAssertEqual(Array(pair[shape.n...]), expected, "\(format) \(path) row \(m) in a pair")
                }
            }
        }
    }

    func testResultIsTheSameOnAnyThreadCount() throws {
        var random = TestRandom(seed: 31)
        let one = try ThreadPool(threadCount: 1)
        let two = try ThreadPool(threadCount: 2)
        for path in Self.paths where path.isSupported(for: .quantized) {
            for format in QuantizedFormat.allCases {
                for shape in [(m: 1, n: 577, k: 576), (m: 16, n: 577, k: 64)] {
                    let blocks = FloatMatmulReference.makeBlocks(format, rows: shape.n, columns: shape.k, random: &random)
                    let x = random.activations(count: shape.m * shape.k)
                    let single = try product(format, blocks, x, shape, path: path, pool: one)
                    XCTAssertEqual(try product(format, blocks, x, shape, path: path, pool: two), single,
                                   "\(format) \(path) M=\(shape.m)")
                    XCTAssertEqual(try product(format, blocks, x, shape, path: path), single, "\(format) \(path) no pool")
                }
            }
        }
    }

    func testOutputRowStrideWritesOnlyItsColumns() throws {
        var random = TestRandom(seed: 37)
        let shape = (m: 6, n: 7, k: 64)
        let blocks = FloatMatmulReference.makeBlocks(.q4_1, rows: shape.n, columns: shape.k, random: &random)
        let x = random.activations(count: shape.m * shape.k)
        let packed = try product(.q4_1, blocks, x, shape, path: .automatic)
        var wide = [Float](repeating: -7, count: shape.m * 10)
        try blocks.withUnsafeBytes { raw in
            let w = try QuantizedMatrix(format: .q4_1, rowCount: shape.n, columnCount: shape.k,
                                        blocks: raw.baseAddress!, byteCount: raw.count)
            try x.withUnsafeBufferPointer { input in
                try wide.withUnsafeMutableBufferPointer {
                    try quantizedFloatMatmul(output: $0, input: input, rowCount: shape.m, weights: w, outputRowStride: 10)
                }
            }
        }
        for m in 0..<shape.m {
            XCTAssertEqual(Array(wide[(m * 10)..<(m * 10 + 7)]), Array(packed[(m * 7)..<(m * 7 + 7)]))
            XCTAssertEqual(Array(wide[(m * 10 + 7)..<(m * 10 + 10)]), [-7, -7, -7])
        }
    }

    func testBadShapesThrowInsteadOfCrashing() throws {
        let blocks = [UInt8](repeating: 0, count: QuantizedMatrix.byteCount(format: .q8_0, rowCount: 4, columnCount: 64))
        try blocks.withUnsafeBytes { raw in
            let w = try QuantizedMatrix(format: .q8_0, rowCount: 4, columnCount: 64, blocks: raw.baseAddress!,
                                        byteCount: raw.count)
            let x = [Float](repeating: 0.5, count: 128)
            var y = [Float](repeating: 1, count: 8)
            try x.withUnsafeBufferPointer { x in
                try y.withUnsafeMutableBufferPointer { out in
                    XCTAssertThrowsError(try quantizedFloatMatmul(output: out, input: x, rowCount: 0, weights: w))
                    XCTAssertThrowsError(try quantizedFloatMatmul(output: out, input: x, rowCount: 2, inputRowStride: 32,
                                                                  weights: w))
                    XCTAssertThrowsError(try quantizedFloatMatmul(output: out, input: x, rowCount: 3, weights: w)) {
                        XCTAssertEqual($0 as? QuantizedKernelError,
                                       .bufferTooSmall(what: "float activation input", needed: 192, actual: 128))
                    }
                    XCTAssertThrowsError(try quantizedFloatMatmul(output: UnsafeMutableBufferPointer(rebasing: out[0..<7]),
                                                                  input: x, rowCount: 2, weights: w)) {
                        XCTAssertEqual($0 as? QuantizedKernelError, .bufferTooSmall(what: "output", needed: 8, actual: 7))
                    }
                    XCTAssertThrowsError(try quantizedFloatMatmul(output: out, input: x, rowCount: 2, weights: w,
                                                                  outputRowStride: 3))
                    try quantizedFloatMatmul(output: out, input: x, rowCount: 2, weights: w)
                }
            }
            XCTAssertEqual(y, [Float](repeating: 0, count: 8))  // all-zero blocks: d = 0
        }
    }
}


/// The naive reference: GGUF blocks decoded one element at a time from the format definitions, and
/// products summed in Double.
enum FloatMatmulReference {
    static func half(_ value: Float) -> [UInt8] {
        let bits = Float16(value).bitPattern
        return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
    }

    static func halfValue(_ bytes: [UInt8], _ offset: Int) -> Double {
        Double(Float16(bitPattern: UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8))
    }

    /// Random `rows` x `columns` weights in `format` with scales of realistic size.
    static func makeBlocks(_ format: QuantizedFormat, rows: Int, columns: Int, random: inout TestRandom) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<(rows * columns / 32) {
            switch format {
            case .q4_0:
                bytes += half(random.uniform(0.002, 0.03))
                for _ in 0..<16 { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
            case .q4_1:
                let d = random.uniform(0.002, 0.03)
                bytes += half(d)
                bytes += half(-8 * d + random.uniform(-0.02, 0.02))
                for _ in 0..<16 { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
            case .q8_0:
                bytes += half(random.uniform(0.0005, 0.004))
                for _ in 0..<32 { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
            }
        }
        return bytes
    }

    /// Decodes `rows` x `columns` weights, one element at a time, in Double.
    static func decode(_ format: QuantizedFormat, _ bytes: [UInt8], rows: Int, columns: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * columns)
        let blockBytes = format.blockByteCount
        for block in 0..<(rows * columns / 32) {
            let at = block * blockBytes
            let d = halfValue(bytes, at)
            for j in 0..<32 {
                let value: Double
                switch format {
                case .q4_0, .q4_1:
                    let byte = bytes[at + (format == .q4_1 ? 4 : 2) + j % 16]
                    let q = Double(j < 16 ? byte & 0x0F : byte >> 4)
                    value = format == .q4_1 ? d * q + halfValue(bytes, at + 2) : d * (q - 8)
                case .q8_0:
                    value = d * Double(Int8(bitPattern: bytes[at + 2 + j]))
                }
                out[block * 32 + j] = value
            }
        }
        return out
    }

    /// y[m][n] = sum_k x[m][k] * w[n][k] in Double, and sum_k |x[m][k] * w[n][k]| (for tolerances).
    static func product(_ x: [Float], _ w: [Double], m: Int, n: Int, k: Int) -> (values: [Double], magnitudes: [Double]) {
        var values = [Double](repeating: 0, count: m * n)
        var magnitudes = [Double](repeating: 0, count: m * n)
        x.withUnsafeBufferPointer { x in
            w.withUnsafeBufferPointer { w in
                for r in 0..<m {
                    for c in 0..<n {
                        var sum = 0.0, magnitude = 0.0
                        for i in 0..<k {
                            let p = Double(x[r * k + i]) * w[c * k + i]
                            sum += p
                            magnitude += abs(p)
                        }
                        values[r * n + c] = sum
                        magnitudes[r * n + c] = magnitude
                    }
                }
            }
        }
        return (values, magnitudes)
    }
}
