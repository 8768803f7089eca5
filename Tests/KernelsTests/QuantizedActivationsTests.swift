import XCTest
import TestSupport
@testable import Kernels

/// `quantizeActivations`: every path gives the same bits, each value is within half a step of its
/// input, the block sum matches, and empty blocks stay zero.
final class QuantizedActivationsTests: XCTestCase {
    private func quantize(_ x: [Float], rows: Int, columns: Int, stride: Int? = nil,
                          path: KernelPath) throws -> QuantizedActivations {
        let activations = try QuantizedActivations(rowCapacity: rows, columnCount: columns)
        try x.withUnsafeBufferPointer {
            try quantizeActivations(output: activations, input: $0, rowCount: rows, inputRowStride: stride, path: path)
        }
        return activations
    }

    /// Rows with outliers, an all-zero block, exact half-step ties and tiny values.
    private func sampleRows(rows: Int, columns: Int) -> [Float] {
        var random = TestRandom(seed: 3)
        var x = random.activations(count: rows * columns)
        for i in 0..<32 { x[32 + i] = 0 }  // row 0, block 1
        for i in 0..<32 { x[64 + i] = Float(i - 16) * 0.5 + (i == 31 ? 63.5 : 0) }  // half-integers, amax 71
        for i in 0..<32 { x[96 + i] = Float(i) * 1e-30 }
        return x
    }

    func testEveryPathGivesIdenticalBits() throws {
        let rows = 5, columns = 1536
        let x = sampleRows(rows: rows, columns: columns)
        let reference = try quantize(x, rows: rows, columns: columns, path: .scalar)
        for path in [KernelPath.avx2, .avx512] where path.isSupported(for: .quantized) {
            let other = try quantize(x, rows: rows, columns: columns, path: path)
            for row in 0..<rows {
                XCTAssertEqual(Array(other.values(row: row)), Array(reference.values(row: row)), "\(path) row \(row)")
                XCTAssertEqual(Array(other.scales(row: row)), Array(reference.scales(row: row)), "\(path) row \(row)")
                XCTAssertEqual(Array(other.blockSums(row: row)), Array(reference.blockSums(row: row)), "\(path) row \(row)")
            }
        }
    }

    func testValuesAreWithinHalfAStep() throws {
        let rows = 3, columns = 576
        let x = sampleRows(rows: rows, columns: columns)
        let a = try quantize(x, rows: rows, columns: columns, path: .automatic)
        XCTAssertEqual(a.rowCount, rows)
        for row in 0..<rows {
            let q = a.values(row: row), d = a.scales(row: row), s = a.blockSums(row: row)
            for b in 0..<(columns / 32) {
                let block = x[(row * columns + b * 32)..<(row * columns + b * 32 + 32)]
                let amax = block.map(abs).max()!
                XCTAssertEqual(d[b], amax / 127, "row \(row) block \(b)")
                var sum = 0
                for i in 0..<32 {
                    let value = q[b * 32 + i]
                    XCTAssertTrue((-127...127).contains(value))
                    XCTAssertLessThanOrEqual(abs(Float(value) * d[b] - block[block.startIndex + i]), d[b] * 0.5001)
                    sum += Int(value)
                }
                XCTAssertEqual(s[b], d[b] * Float(sum), "row \(row) block \(b)")
                if amax > 0 { XCTAssertEqual(q[(b * 32)..<(b * 32 + 32)].map { abs(Int($0)) }.max(), 127) }
            }
        }
        // Row 0, block 1 was all zeros.
        XCTAssertEqual(a.scales(row: 0)[1], 0)
        XCTAssertEqual(Array(a.values(row: 0)[32..<64]), [Int8](repeating: 0, count: 32))
    }

    func testTiesRoundToEven() throws {
        // amax = 127 makes d = 1, so x is q exactly and x +- 0.5 is a tie.
        var x = [Float](repeating: 0, count: 32)
        x[0] = 127
        x[1] = 2.5
        x[2] = 3.5
        x[3] = -2.5
        for path in [KernelPath.scalar, .avx2, .avx512] where path.isSupported(for: .quantized) {
            let a = try quantize(x, rows: 1, columns: 32, path: path)
            XCTAssertEqual(Array(a.values(row: 0)[0..<4]), [127, 2, 4, -2], "\(path)")
        }
    }

    func testRowStrideSkipsPadding() throws {
        let columns = 64, stride = 80
        var random = TestRandom(seed: 5)
        let padded = random.activations(count: 2 * stride)
        let packed = Array(padded[0..<columns]) + Array(padded[stride..<(stride + columns)])
        let a = try quantize(padded, rows: 2, columns: columns, stride: stride, path: .automatic)
        let b = try quantize(packed, rows: 2, columns: columns, path: .automatic)
        for row in 0..<2 { XCTAssertEqual(Array(a.values(row: row)), Array(b.values(row: row))) }
    }
}
