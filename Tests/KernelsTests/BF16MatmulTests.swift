import XCTest
import TestSupport
@testable import Kernels

/// bf16 conversion (round to nearest even, identical bits on every path) and `bf16Matmul` on every path
/// against a naive reference, for odd shapes (N = 1, 7, 33, 577; K = 1, 31, 64, 576, 1536).
///
/// Tolerances, per output element: against the product of the bf16 values themselves, only f32
/// rounding differs: |y - y_ref| <= 1e-5 * sum_k |x̂_k w_k| + 1e-6. Against the original float x, bf16
/// rounding of x adds at most 2^-9 relative per element: |y - y_ref| <= 2^-8 * sum_k |x_k w_k| + 1e-6.
final class BF16MatmulTests: XCTestCase {
    private func bf16Bits(_ values: [Float], path: KernelPath = .automatic) throws -> [UInt16] {
        var bits = [UInt16](repeating: 0, count: values.count)
        try bits.withUnsafeMutableBufferPointer { out in
            try values.withUnsafeBufferPointer { try convertToBF16(output: out, input: $0, path: path) }
        }
        return bits
    }

    private static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    func testConversionRoundsToNearestEven() throws {
        let cases: [(Float, UInt16)] = [
            (1.0, 0x3F80),
            (-2.5, 0xC020),
            (Float(bitPattern: 0x3F80_8000), 0x3F80),  // tie, even below
            (Float(bitPattern: 0x3F81_8000), 0x3F82),  // tie, even above
            (Float(bitPattern: 0x3F80_8001), 0x3F81),  // just past the tie
            (Float(bitPattern: 0x3F80_7FFF), 0x3F80),
            (.infinity, 0x7F80),
            (-.infinity, 0xFF80),
            (Float(bitPattern: 0x0000_8001), 0x0001),  // denormal, kept
            (Float(bitPattern: 0x7F7F_FFFF), 0x7F80),  // largest float rounds up to infinity
        ]
        for path in [KernelPath.scalar, .avx2, .avx512] where path.isSupported(for: .bf16) {
            // Pad to 40 values so the vector loop and the scalar tail both run.
            let input = cases.map(\.0) + [Float](repeating: 0, count: 40 - cases.count)
            let bits = try bf16Bits(input, path: path)
            XCTAssertEqual(Array(bits[0..<cases.count]), cases.map(\.1), "\(path)")
            let nan = try bf16Bits([Float](repeating: Float(bitPattern: 0x7F80_0001), count: 17), path: path)
            XCTAssertTrue(nan.allSatisfy { Self.float($0).isNaN }, "\(path): a signalling NaN stays NaN")
        }
    }

    func testEveryConversionPathGivesIdenticalBits() throws {
        var random = TestRandom(seed: 23)
        let values = (0..<1003).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: random.next())) }
        let reference = try bf16Bits(values, path: .scalar)
        for path in [KernelPath.avx2, .avx512] where path.isSupported(for: .bf16) {
            let bits = try bf16Bits(values, path: path)
            XCTAssertEqual(bits, reference, "\(path)")
        }
    }

    func testScalarPathMatchesReference() throws { try checkPath(.scalar) }

    func testAVX2PathMatchesReference() throws {
        try XCTSkipUnless(KernelPath.avx2.isSupported(for: .bf16), "this CPU has no AVX2")
        try checkPath(.avx2)
    }

    func testAVX512BF16PathMatchesReference() throws {
        try XCTSkipUnless(KernelPath.avx512.isSupported(for: .bf16), "this CPU has no AVX-512 BF16")
        try checkPath(.avx512)
    }

    /// One shape with its data and references, computed once and shared by the path tests.
    struct Fixture: Sendable {
        let shape: (m: Int, n: Int, k: Int)
        let weightBits: [UInt16]
        let x: [Float]
        let bf16Reference: [Double]
        let tightTolerance: [Double]
        let floatReference: [Double]
        let looseTolerance: [Double]
    }

    static let fixtures: [Fixture] = {
        var random = TestRandom(seed: 29)
        let ns = [1, 7, 33, 577], ks = [1, 31, 64, 576, 1536], ms = [1, 3, 16, 37]
        var shapes: [(m: Int, n: Int, k: Int)] = []
        for (i, n) in ns.enumerated() {
            for (j, k) in ks.enumerated() { shapes.append((ms[(i + j) % 4], n, k)) }
        }
        shapes.append((70, 9, 40))  // crosses the 64-row block
        return shapes.map { shape in
            let w = (0..<(shape.n * shape.k)).map { _ in random.uniform(-0.1, 0.1) }
            let x = random.activations(count: shape.m * shape.k)
            // The scalar conversion: every path gives the same bits (testEveryConversionPathGivesIdenticalBits).
            let wBits = scalarBits(w), xBits = scalarBits(x)
            let wRounded = wBits.map(float), xRounded = xBits.map(float)
            let exact = QuantizedReference.matmul(xRounded, wRounded, rows: shape.m, outputs: shape.n, columns: shape.k)
            let original = QuantizedReference.matmul(x, wRounded, rows: shape.m, outputs: shape.n, columns: shape.k)
            return Fixture(shape: shape, weightBits: wBits, x: x, bf16Reference: exact.values,
                           tightTolerance: exact.magnitudes.map { 1e-5 * $0 + 1e-6 }, floatReference: original.values,
                           looseTolerance: original.magnitudes.map { 0.00390625 * $0 + 1e-6 })
        }
    }()

    private static func scalarBits(_ values: [Float]) -> [UInt16] {
        var bits = [UInt16](repeating: 0, count: values.count)
        try! bits.withUnsafeMutableBufferPointer { out in
            try values.withUnsafeBufferPointer { try convertToBF16(output: out, input: $0, path: .scalar) }
        }
        return bits
    }

    private func checkPath(_ path: KernelPath) throws {
        for f in Self.fixtures {
            let shape = f.shape
            let input = try BF16Activations(rowCapacity: shape.m, columnCount: shape.k)
            try f.x.withUnsafeBufferPointer { try convertToBF16(output: input, input: $0, rowCount: shape.m, path: path) }
            var y = [Float](repeating: .nan, count: shape.m * shape.n)
            try f.weightBits.withUnsafeBufferPointer { bits in
                let matrix = try BF16Matrix(rowCount: shape.n, columnCount: shape.k, elements: bits)
                try y.withUnsafeMutableBufferPointer { try bf16Matmul(output: $0, input: input, weights: matrix, path: path) }
            }
            var failures = 0
            for i in y.indices where failures < 5 {
                let tightError = abs(Double(y[i]) - f.bf16Reference[i])
                let looseError = abs(Double(y[i]) - f.floatReference[i])
                if !(tightError <= f.tightTolerance[i]) || !(looseError <= f.looseTolerance[i]) {
                    failures += 1
                    XCTFail("\(path) M=\(shape.m) N=\(shape.n) K=\(shape.k) y[\(i)] = \(y[i]); bf16 reference "
                        + "\(f.bf16Reference[i]) (error \(tightError), allowed \(f.tightTolerance[i])); float reference "
                        + "\(f.floatReference[i]) (error \(looseError), allowed \(f.looseTolerance[i]))")
                }
            }
        }
    }

    /// A row's result does not depend on which other rows share the batch.
    func testRowsDoNotDependOnTheBatch() throws {
        var random = TestRandom(seed: 31)
        let m = 11, n = 13, k = 100
        let wBits = Self.scalarBits((0..<(n * k)).map { _ in random.uniform(-0.1, 0.1) })
        let x = random.activations(count: m * k)
        for path in [KernelPath.scalar, .avx2, .avx512] where path.isSupported(for: .bf16) {
            func product(_ rows: [Float], _ rowCount: Int) throws -> [Float] {
                let input = try BF16Activations(rowCapacity: rowCount, columnCount: k)
                try rows.withUnsafeBufferPointer { try convertToBF16(output: input, input: $0, rowCount: rowCount, path: path) }
                var y = [Float](repeating: .nan, count: rowCount * n)
                try wBits.withUnsafeBufferPointer { bits in
                    let matrix = try BF16Matrix(rowCount: n, columnCount: k, elements: bits)
                    try y.withUnsafeMutableBufferPointer { try bf16Matmul(output: $0, input: input, weights: matrix, path: path) }
                }
                return y
            }
            let batched = try product(x, m)
            for row in [0, 6, 10] {
                let alone = try product(Array(x[(row * k)..<((row + 1) * k)]), 1)
                XCTAssertEqual(alone, Array(batched[(row * n)..<((row + 1) * n)]), "\(path) row \(row)")
            }
        }
    }

    func testBadShapesThrow() throws {
        let bits = [UInt16](repeating: 0, count: 12)
        try bits.withUnsafeBufferPointer { bits in
            XCTAssertThrowsError(try BF16Matrix(rowCount: 4, columnCount: 4, elements: bits))
            let matrix = try BF16Matrix(rowCount: 3, columnCount: 4, elements: bits)
            let input = try BF16Activations(rowCapacity: 2, columnCount: 5)
            try [Float](repeating: 1, count: 10).withUnsafeBufferPointer {
                try convertToBF16(output: input, input: $0, rowCount: 2)
            }
            var y = [Float](repeating: 0, count: 6)
            try y.withUnsafeMutableBufferPointer { out in
                XCTAssertThrowsError(try bf16Matmul(output: out, input: input, weights: matrix)) {
                    XCTAssertEqual($0 as? QuantizedKernelError, .columnCountMismatch(activations: 5, weights: 4))
                }
            }
        }
    }
}
