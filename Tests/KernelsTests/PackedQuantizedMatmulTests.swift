import XCTest
import TestSupport
@testable import Kernels

/// `packedQuantizedMatmul` (weights repacked 16 rows per block) on every forced path against the naive
/// references of `QuantizedProductFixtures` (same shapes: N = 1, 7, 33, 577 make partial 16-row groups; K up
/// to 1536; M from 1 past the 64-row blocking), with the same tolerances: tight against the product with
/// the int8-rounded input, loose against the float product.
final class PackedQuantizedMatmulTests: XCTestCase {
    func testScalarPathMatchesReference() throws { try checkPath(.scalar) }

    func testAutomaticPathIsSupported() {
        XCTAssertTrue(KernelPath.best(for: .packed).isSupported(for: .packed))
        XCTAssertTrue(KernelPath.best(for: .quantized).isSupported(for: .quantized))
        XCTAssertTrue(KernelPath.best(for: .bf16).isSupported(for: .bf16))
    }

    func testAVX2PathMatchesReference() throws {
        try XCTSkipUnless(KernelPath.avx2.isSupported(for: .packed), "this CPU has no AVX2")
        try checkPath(.avx2)
    }

    func testAVXVNNIPathMatchesReference() throws {
        try XCTSkipUnless(KernelPath.avxVNNI.isSupported(for: .packed), "this CPU has no AVX-VNNI")
        try checkPath(.avxVNNI)
    }

    func testAVX512PathMatchesReference() throws {
        try XCTSkipUnless(KernelPath.avx512.isSupported(for: .packed), "this CPU has no AVX-512 VNNI")
        try checkPath(.avx512)
    }

    /// Two-digit activations on every path: within 1/128 of the int8 rounding bound of the float product.
    func testTwoDigitActivationsOnEveryPathMatchTheFloatProduct() throws {
        for path in [KernelPath.scalar, .avx2, .avxVNNI, .avx512] where path.isSupported(for: .packed) {
            for f in QuantizedProductFixtures.all {
                let y = try run(f.format, f.blocks, f.x, f.shape, path: path, digits: 2)
                var failures = 0
                for i in y.indices where failures < 5 {
                    // looseTolerance = 1.01 * bound + 1e-5 * magnitude + 1e-6; the digit step is 1/128 of int8's.
                    let bound = (f.looseTolerance[i] - f.tightTolerance[i]) / 1.01
                    let allowed = 1.01 * bound / 128 + f.tightTolerance[i]
                    let error = abs(Double(y[i]) - f.floatReference[i])
                    if !(error <= allowed) {
                        failures += 1
                        XCTFail("\(f.format) \(path) two digits M=\(f.shape.m) N=\(f.shape.n) K=\(f.shape.k) element \(i): \(y[i]) vs float "
                            + "\(f.floatReference[i]) (error \(error), allowed \(allowed))")
                    }
                }
            }
        }
    }

    /// Each value is 128 * high + low digits (high in -127...127, low in 0...127) within half a step d/2
    /// of x, with d = amax/16256 per block and the block sum s = d * sum(q).
    func testTwoDigitActivationsRoundEachValueToHalfAStep() throws {
        var random = TestRandom(seed: 37)
        let rows = 3, columns = 96
        let x = random.activations(count: rows * columns)
        let q = try QuantizedActivations(rowCapacity: rows, columnCount: columns, digitCount: 2)
        try x.withUnsafeBufferPointer { try quantizeActivations(output: q, input: $0, rowCount: rows) }
        // Every path gives the scalar path's bits.
        let scalar = try QuantizedActivations(rowCapacity: rows, columnCount: columns, digitCount: 2)
        try x.withUnsafeBufferPointer { try quantizeActivations(output: scalar, input: $0, rowCount: rows, path: .scalar) }
        for r in 0..<rows {
            XCTAssertEqual(Array(q.values(row: r)), Array(scalar.values(row: r)))
            XCTAssertEqual(Array(UnsafeBufferPointer(start: q.lowValues! + r * columns, count: columns)),
                           Array(UnsafeBufferPointer(start: scalar.lowValues! + r * columns, count: columns)))
            XCTAssertEqual(Array(q.scales(row: r)), Array(scalar.scales(row: r)))
            XCTAssertEqual(Array(q.blockSums(row: r)), Array(scalar.blockSums(row: r)))
        }
        for r in 0..<rows {
            let high = q.values(row: r), low = UnsafeBufferPointer(start: q.lowValues! + r * columns, count: columns)
            for b in 0..<(columns / 32) {
                let block = x[(r * columns + b * 32)..<(r * columns + b * 32 + 32)]
                let d = block.map(abs).max()! / 16256
                XCTAssertEqual(q.scales(row: r)[b], d)
                var sum = 0
                for i in 0..<32 {
                    let h = Int(high[b * 32 + i]), l = Int(low[b * 32 + i])
                    XCTAssertTrue((-127...127).contains(h) && (0...127).contains(l), "digits \(h), \(l)")
                    let value = 128 * h + l
                    sum += value
                    XCTAssertLessThanOrEqual(abs(Float(value) * d - block[block.startIndex + i]), d * 0.5001 + 1e-12)
                }
                XCTAssertEqual(q.blockSums(row: r)[b], d * Float(sum))
            }
        }
    }

    /// AVX-VNNI is a path of the packed products only: the other kernels never resolve to it.
    func testAVXVNNIIsOfferedForPackedProductsOnly() {
        XCTAssertFalse(KernelPath.avxVNNI.isSupported(for: .quantized))
        XCTAssertFalse(KernelPath.avxVNNI.isSupported(for: .bf16))
        XCTAssertTrue(KernelPath.best(for: .packed).isSupported(for: .packed))
    }

    private func checkPath(_ path: KernelPath) throws {
        for f in QuantizedProductFixtures.all {
            let y = try run(f.format, f.blocks, f.x, f.shape, path: path)
            var failures = 0
            for i in y.indices where failures < 5 {
                let tightError = abs(Double(y[i]) - f.quantizedReference[i])
                let looseError = abs(Double(y[i]) - f.floatReference[i])
                if !(tightError <= f.tightTolerance[i]) || !(looseError <= f.looseTolerance[i]) {
                    failures += 1
                    XCTFail("\(f.format) \(path) M=\(f.shape.m) N=\(f.shape.n) K=\(f.shape.k) y[\(i / f.shape.n)][\(i % f.shape.n)] = "
                        + "\(y[i]); int8-input reference \(f.quantizedReference[i]) (error \(tightError), allowed "
                        + "\(f.tightTolerance[i])); float reference \(f.floatReference[i]) (error \(looseError))")
                }
            }
        }
    }

    /// Quantizes x, packs W and runs the kernel; returns y[M][N].
    private func run(_ format: QuantizedFormat, _ blocks: [UInt8], _ x: [Float], _ shape: (m: Int, n: Int, k: Int),
                     path: KernelPath, pool: ThreadPool? = nil, digits: Int = 1) throws -> [Float] {
        let activations = try QuantizedActivations(rowCapacity: shape.m, columnCount: shape.k, digitCount: digits)
        try x.withUnsafeBufferPointer { try quantizeActivations(output: activations, input: $0, rowCount: shape.m) }
        var y = [Float](repeating: .nan, count: shape.m * shape.n)
        let packed = try pack(format, blocks, rows: shape.n, columns: shape.k)
        try y.withUnsafeMutableBufferPointer {
            try packedQuantizedMatmul([PackedProduct(output: $0, weights: packed)], input: activations, pool: pool, path: path)
        }
        return y
    }

    private func pack(_ format: QuantizedFormat, _ blocks: [UInt8], rows: Int, columns: Int) throws -> PackedQuantizedMatrix {
        try blocks.withUnsafeBytes { raw in
            try PackedQuantizedMatrix(QuantizedMatrix(format: format, rowCount: rows, columnCount: columns,
                                                      blocks: raw.baseAddress!, byteCount: raw.count))
        }
    }

    /// A row's result does not depend on the batch, so batched decoding gives the logits of decoding alone.
    func testRowsDoNotDependOnTheBatch() throws {
        try QuantizedReference.assertRowsIndependentOfBatch(
            paths: [KernelPath.scalar, .avx2, .avxVNNI, .avx512].filter { $0.isSupported(for: .packed) }, seed: 23
        ) { try run($0, $1, $2, $3, path: $4) }
    }

    /// Several products in one pool job (q, k, v) give each product's own bits, at any thread count, and
    /// write only their rows' columns of a wider output.
    func testOneJobOfSeveralProductsMatchesEachAlone() throws {
        var random = TestRandom(seed: 29)
        let k = 576, m = 3
        let widths = [576, 192, 40]
        let x = random.activations(count: m * k)
        let activations = try QuantizedActivations(rowCapacity: m, columnCount: k)
        try x.withUnsafeBufferPointer { try quantizeActivations(output: activations, input: $0, rowCount: m) }
        let matrices = try widths.map { n in
            try pack(.q4_1, QuantizedReference.makeBlocks(.q4_1, rows: n, columns: k, random: &random), rows: n, columns: k)
        }
        let alone = try matrices.map { w -> [Float] in
            var y = [Float](repeating: .nan, count: m * w.rowCount)
            try y.withUnsafeMutableBufferPointer { try packedQuantizedMatmul([PackedProduct(output: $0, weights: w)], input: activations) }
            return y
        }
        let pool = try ThreadPool(threadCount: 3)
        let stride = 600
        var outputs = widths.map { _ in [Float](repeating: -7, count: m * stride) }
        let pointers = outputs.indices.map { i in UnsafeMutableBufferPointer<Float>.allocate(capacity: m * stride) }
        defer { pointers.forEach { $0.deallocate() } }
        for (i, p) in pointers.enumerated() { _ = p.initialize(from: outputs[i]) }
        try packedQuantizedMatmul(zip(pointers, matrices).map { PackedProduct(output: $0, weights: $1, outputRowStride: stride) },
                                  input: activations, pool: pool)
        for (i, p) in pointers.enumerated() { outputs[i] = Array(p) }
        for (i, w) in widths.enumerated() {
            for r in 0..<m {
                XCTAssertEqual(Array(outputs[i][(r * stride)..<(r * stride + w)]), Array(alone[i][(r * w)..<((r + 1) * w)]), "product \(i) row \(r)")
                XCTAssertTrue(outputs[i][(r * stride + w)..<((r + 1) * stride)].allSatisfy { $0 == -7 }, "product \(i) row \(r) padding")
            }
        }
    }

    func testBadShapesThrowInsteadOfCrashing() throws {
        var random = TestRandom(seed: 31)
        let w = try pack(.q8_0, QuantizedReference.makeBlocks(.q8_0, rows: 4, columns: 64, random: &random), rows: 4, columns: 64)
        let narrow = try QuantizedActivations(rowCapacity: 2, columnCount: 32)
        let activations = try QuantizedActivations(rowCapacity: 2, columnCount: 64)
        var y = [Float](repeating: 0, count: 8)
        try y.withUnsafeMutableBufferPointer { out in
            XCTAssertThrowsError(try packedQuantizedMatmul([PackedProduct(output: out, weights: w)], input: activations))
            let x = [Float](repeating: 0.5, count: 128)
            try x.withUnsafeBufferPointer { x in
                try quantizeActivations(output: activations, input: x, rowCount: 2)
                try quantizeActivations(output: narrow, input: x, rowCount: 2)
            }
            XCTAssertThrowsError(try packedQuantizedMatmul([PackedProduct(output: out, weights: w)], input: narrow)) {
                XCTAssertEqual($0 as? QuantizedKernelError, .columnCountMismatch(activations: 32, weights: 64))
            }
            XCTAssertThrowsError(try packedQuantizedMatmul([PackedProduct(output: UnsafeMutableBufferPointer(rebasing: out[0..<7]), weights: w)],
                                                           input: activations))
        }
    }
}
