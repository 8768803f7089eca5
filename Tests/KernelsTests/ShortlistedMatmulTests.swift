import XCTest
import TestSupport
import CKernels
@testable import Kernels

/// `ShortlistedMatrix` / `shortlistedMatmul` (the LM head's Q4_1 copy with its best outputs recomputed)
/// and `ck_requantize_q4_1` against naive references.
final class ShortlistedMatmulTests: XCTestCase {
    /// Every re-quantized weight is within half a step (d/2, d the stored scale) of the original, plus
    /// the f16 rounding of the stored offset; d and m are the f16 of (max - min)/15 and min.
    func testRequantizationKeepsEveryWeightWithinHalfAStep() throws {
        var random = TestRandom(seed: 41)
        for format in QuantizedFormat.allCases {
            let rows = 5, columns = 96
            let blocks = QuantizedReference.makeBlocks(format, rows: rows, columns: columns, random: &random)
            let original = QuantizedReference.dequantize(format, blocks, rows: rows, columns: columns)
            var copy = [UInt8](repeating: 0, count: QuantizedMatrix.byteCount(format: .q4_1, rowCount: rows, columnCount: columns))
            XCTAssertEqual(ck_requantize_q4_1(&copy, blocks, format.cValue, Int32(rows), Int32(columns)), 1)
            let requantized = QuantizedReference.dequantize(.q4_1, copy, rows: rows, columns: columns)
            for block in 0..<(rows * columns / 32) {
                let values = original[(block * 32)..<((block + 1) * 32)]
                let lo = values.min()!, hi = values.max()!
                let d = QuantizedReference.halfValue(copy, block * 20), m = QuantizedReference.halfValue(copy, block * 20 + 2)
                XCTAssertEqual(d, Float(Float16((hi - lo) / 15)), "\(format) block \(block) scale")
                XCTAssertEqual(m, Float(Float16(lo)), "\(format) block \(block) offset")
                for i in 0..<32 {
                    let error = abs(requantized[block * 32 + i] - original[block * 32 + i])
                    XCTAssertLessThanOrEqual(error, d / 2 + abs(m - lo) + 1e-6 * (abs(hi) + abs(lo)), "\(format) block \(block) element \(i)")
                }
            }
        }
        XCTAssertEqual(ck_requantize_q4_1(nil, nil, CK_Q8_0, 1, 48), 0)
    }

    /// The outputs at each row's `candidateCount` best coarse positions are the float-activation
    /// product's (`quantizedFloatMatmul`); every other output is the coarse product's.
    func testBestCoarseOutputsAreRecomputedExactly() throws {
        var random = TestRandom(seed: 43)
        let m = 3, n = 300, k = 128, candidates = 16
        let blocks = QuantizedReference.makeBlocks(.q8_0, rows: n, columns: k, random: &random)
        let x = random.activations(count: m * k)
        let activations = try QuantizedActivations(rowCapacity: m, columnCount: k)
        try x.withUnsafeBufferPointer { try quantizeActivations(output: activations, input: $0, rowCount: m) }
        try blocks.withUnsafeBytes { raw in
            let exact = try QuantizedMatrix(format: .q8_0, rowCount: n, columnCount: k, blocks: raw.baseAddress!, byteCount: raw.count)
            let shortlisted = try ShortlistedMatrix(exact, candidateCount: candidates)
            var coarse = [Float](repeating: .nan, count: m * n), exactY = coarse, y = coarse
            try coarse.withUnsafeMutableBufferPointer {
                try packedQuantizedMatmul([PackedProduct(output: $0, weights: shortlisted.coarse)], input: activations)
            }
            try exactY.withUnsafeMutableBufferPointer { out in
                try x.withUnsafeBufferPointer { try quantizedFloatMatmul(output: out, input: $0, rowCount: m, weights: exact) }
            }
            let pool = try ThreadPool(threadCount: 2)
            try y.withUnsafeMutableBufferPointer { out in
                try x.withUnsafeBufferPointer {
                    try shortlistedMatmul(output: out, input: activations, floatInput: $0, weights: shortlisted, pool: pool)
                }
            }
            for r in 0..<m {
                let row = Array(coarse[(r * n)..<((r + 1) * n)])
                let best = Set(row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(candidates))
                for i in 0..<n {
                    if best.contains(i) {
                        XCTAssertEqual(y[r * n + i], exactY[r * n + i], accuracy: 1e-5 * max(1, abs(exactY[r * n + i])), "row \(r) output \(i)")
                    } else {
                        XCTAssertEqual(y[r * n + i], coarse[r * n + i], "row \(r) output \(i)")
                    }
                }
            }
        }
    }
}
