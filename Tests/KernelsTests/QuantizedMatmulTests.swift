import XCTest
import TestSupport
@testable import Kernels

/// `quantizedMatmul` on every forced path against the naive reference, for odd shapes (N = 1, 7, 33, 577;
/// K = 32, 64, 576, 1536; M = 1, 3, 16, 37, plus M past the 64-row blocking) and all three formats.
///
/// Tolerances, per output element y[m][n]:
/// - against the product with the int8-rounded input (d*q), only f32 rounding differs:
///   |y - y_ref| <= 1e-5 * sum_k |x̂_k * w_k| + 1e-6;
/// - against the product with the original float input, int8 rounding of x adds at most half a step per
///   element: |y - y_ref| <= 1.01 * sum_k |w_k| * amax(block of x_k)/254 + 1e-5 * sum_k |x_k * w_k| + 1e-6.
final class QuantizedMatmulTests: XCTestCase {
    /// Every N with every K; M cycles through 1, 3, 16, 37 so each M meets each N and each K.
    static let shapes: [(m: Int, n: Int, k: Int)] = {
        let ns = [1, 7, 33, 577], ks = [32, 64, 576, 1536], ms = [1, 3, 16, 37]
        var shapes: [(Int, Int, Int)] = []
        for (i, n) in ns.enumerated() {
            for (j, k) in ks.enumerated() { shapes.append((ms[(i + j) % 4], n, k)) }
        }
        shapes.append((70, 33, 64))  // crosses the 64-row block
        shapes.append((5, 9, 544))   // 17 blocks: an odd block count in the last 16-block chunk
        return shapes
    }()

    func testScalarPathMatchesReference() throws { try checkPath(.scalar) }

    func testAVX2PathMatchesReference() throws {
        try XCTSkipUnless(KernelPath.avx2.isSupported(for: .quantized), "this CPU has no AVX2")
        try checkPath(.avx2)
    }

    func testAVX512PathMatchesReference() throws {
        try XCTSkipUnless(KernelPath.avx512.isSupported(for: .quantized), "this CPU has no AVX-512 VNNI")
        try checkPath(.avx512)
    }

    func testAutomaticPathIsSupported() {
        XCTAssertTrue(KernelPath.best(for: .quantized).isSupported(for: .quantized))
        XCTAssertTrue(KernelPath.best(for: .bf16).isSupported(for: .bf16))
    }

    /// One format and shape with its data and references, computed once and shared by the path tests.
    struct Fixture: Sendable {
        let format: QuantizedFormat
        let shape: (m: Int, n: Int, k: Int)
        let blocks: [UInt8]
        let x: [Float]
        /// The product with the int8-rounded input, and the tight tolerance for each element.
        let quantizedReference: [Double]
        let tightTolerance: [Double]
        /// The product with the float input, and the loose tolerance for each element.
        let floatReference: [Double]
        let looseTolerance: [Double]
    }

    static let fixtures: [Fixture] = {
        var random = TestRandom(seed: 7)
        var fixtures: [Fixture] = []
        for format in QuantizedFormat.allCases {
            for shape in shapes {
                let blocks = QuantizedReference.makeBlocks(format, rows: shape.n, columns: shape.k, random: &random)
                let x = random.activations(count: shape.m * shape.k)
                let w = QuantizedReference.dequantize(format, blocks, rows: shape.n, columns: shape.k)
                // The scalar quantizer: every path gives the same bits (QuantizedActivationsTests).
                let activations = try! QuantizedActivations(rowCapacity: shape.m, columnCount: shape.k)
                try! x.withUnsafeBufferPointer {
                    try quantizeActivations(output: activations, input: $0, rowCount: shape.m, path: .scalar)
                }
                let xq = QuantizedReference.dequantized(activations)
                let quantized = QuantizedReference.matmul(xq, w, rows: shape.m, outputs: shape.n, columns: shape.k)
                let float = QuantizedReference.matmul(x, w, rows: shape.m, outputs: shape.n, columns: shape.k)
                let bound = QuantizedReference.quantizationBound(x, w, rows: shape.m, outputs: shape.n, columns: shape.k)
                fixtures.append(Fixture(
                    format: format, shape: shape, blocks: blocks, x: x, quantizedReference: quantized.values,
                    tightTolerance: quantized.magnitudes.map { 1e-5 * $0 + 1e-6 }, floatReference: float.values,
                    looseTolerance: zip(bound, float.magnitudes).map { 1.01 * $0 + 1e-5 * $1 + 1e-6 }))
            }
        }
        return fixtures
    }()

    private func checkPath(_ path: KernelPath) throws {
        for f in Self.fixtures {
            let y = try run(f.format, f.blocks, f.x, f.shape, path: path)
            var failures = 0
            for i in y.indices where failures < 5 {
                let tightError = abs(Double(y[i]) - f.quantizedReference[i])
                let looseError = abs(Double(y[i]) - f.floatReference[i])
                if !(tightError <= f.tightTolerance[i]) || !(looseError <= f.looseTolerance[i]) {
                    failures += 1
                    XCTFail("\(f.format) \(path) M=\(f.shape.m) N=\(f.shape.n) K=\(f.shape.k) y[\(i / f.shape.n)][\(i % f.shape.n)] = "
                        + "\(y[i]); int8-input reference \(f.quantizedReference[i]) (error \(tightError), allowed "
                        + "\(f.tightTolerance[i])); float reference \(f.floatReference[i]) (error \(looseError), "
                        + "allowed \(f.looseTolerance[i]))")
                }
            }
        }
    }

    /// Quantizes x and runs the kernel; returns y[M][N].
    private func run(_ format: QuantizedFormat, _ blocks: [UInt8], _ x: [Float], _ shape: (m: Int, n: Int, k: Int),
                     path: KernelPath, pool: ThreadPool? = nil) throws -> [Float] {
        let activations = try QuantizedActivations(rowCapacity: shape.m, columnCount: shape.k)
        try x.withUnsafeBufferPointer { try quantizeActivations(output: activations, input: $0, rowCount: shape.m) }
        var y = [Float](repeating: .nan, count: shape.m * shape.n)
        try blocks.withUnsafeBytes { raw in
            let w = try QuantizedMatrix(format: format, rowCount: shape.n, columnCount: shape.k,
                                        blocks: raw.baseAddress!, byteCount: raw.count)
            try y.withUnsafeMutableBufferPointer {
                try quantizedMatmul(output: $0, input: activations, weights: w, pool: pool, path: path)
            }
        }
        return y
    }

    /// A row's result does not depend on which other rows share the batch (or on its tile within the
    /// batch), so batched decoding produces the same logits as decoding one sequence alone.
    func testRowsDoNotDependOnTheBatch() throws {
        try QuantizedReference.assertRowsIndependentOfBatch(
            paths: [KernelPath.scalar, .avx2, .avx512].filter { $0.isSupported(for: .quantized) }, seed: 19
        ) { try run($0, $1, $2, $3, path: $4) }
    }

    func testOutputRowStrideWritesOnlyItsColumns() throws {
        var random = TestRandom(seed: 11)
        let shape = (m: 3, n: 7, k: 64)
        let blocks = QuantizedReference.makeBlocks(.q4_1, rows: shape.n, columns: shape.k, random: &random)
        let x = random.activations(count: shape.m * shape.k)
        let packed = try run(.q4_1, blocks, x, shape, path: .automatic)
        let activations = try QuantizedActivations(rowCapacity: shape.m, columnCount: shape.k)
        try x.withUnsafeBufferPointer { try quantizeActivations(output: activations, input: $0, rowCount: shape.m) }
        var wide = [Float](repeating: -7, count: shape.m * 10)
        try blocks.withUnsafeBytes { raw in
            let w = try QuantizedMatrix(format: .q4_1, rowCount: shape.n, columnCount: shape.k,
                                        blocks: raw.baseAddress!, byteCount: raw.count)
            try wide.withUnsafeMutableBufferPointer {
                try quantizedMatmul(output: $0, input: activations, weights: w, outputRowStride: 10)
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
            XCTAssertThrowsError(try QuantizedMatrix(format: .q8_0, rowCount: 4, columnCount: 48,
                                                     blocks: raw.baseAddress!, byteCount: raw.count))
            XCTAssertThrowsError(try QuantizedMatrix(format: .q8_0, rowCount: 5, columnCount: 64,
                                                     blocks: raw.baseAddress!, byteCount: raw.count)) {
                XCTAssertEqual($0 as? QuantizedKernelError,
                               .bufferTooSmall(what: "Q8_0 weight buffer (bytes)", needed: 340, actual: 272))
            }
            let w = try QuantizedMatrix(format: .q8_0, rowCount: 4, columnCount: 64, blocks: raw.baseAddress!,
                                        byteCount: raw.count)
            let narrow = try QuantizedActivations(rowCapacity: 2, columnCount: 32)
            let activations = try QuantizedActivations(rowCapacity: 2, columnCount: 64)
            var y = [Float](repeating: 0, count: 8)
            try y.withUnsafeMutableBufferPointer { out in
                // Nothing quantized yet.
                XCTAssertThrowsError(try quantizedMatmul(output: out, input: activations, weights: w))
                let x = [Float](repeating: 0.5, count: 128)
                try x.withUnsafeBufferPointer { x in
                    XCTAssertThrowsError(try quantizeActivations(output: activations, input: x, rowCount: 3)) {
                        XCTAssertEqual($0 as? QuantizedKernelError, .rowCountExceedsCapacity(rowCount: 3, capacity: 2))
                    }
                    XCTAssertThrowsError(try quantizeActivations(output: activations, input: UnsafeBufferPointer(rebasing: x[0..<100]),
                                                                 rowCount: 2))
                    try quantizeActivations(output: activations, input: x, rowCount: 2)
                    try quantizeActivations(output: narrow, input: x, rowCount: 2)
                }
                XCTAssertThrowsError(try quantizedMatmul(output: out, input: narrow, weights: w)) {
                    XCTAssertEqual($0 as? QuantizedKernelError, .columnCountMismatch(activations: 32, weights: 64))
                }
                XCTAssertThrowsError(try quantizedMatmul(output: UnsafeMutableBufferPointer(rebasing: out[0..<7]),
                                                         input: activations, weights: w))
                try quantizedMatmul(output: out, input: activations, weights: w)
            }
            XCTAssertEqual(y, [Float](repeating: 0, count: 8))  // all-zero blocks: d = 0
        }
    }

    func testFormatsMatchGGMLTypeIDs() {
        XCTAssertEqual(QuantizedFormat(ggmlTypeID: 2), .q4_0)
        XCTAssertEqual(QuantizedFormat(ggmlTypeID: 3), .q4_1)
        XCTAssertEqual(QuantizedFormat(ggmlTypeID: 8), .q8_0)
        XCTAssertNil(QuantizedFormat(ggmlTypeID: 0))
        XCTAssertEqual(QuantizedFormat.allCases.map(\.blockByteCount), [18, 20, 34])
    }
}
