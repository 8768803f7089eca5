import Foundation
import XCTest
import TestSupport
@testable import Kernels

/// `storeKVElements` into int8 pages (groups of 32 values: a Float scale, then 32 signed bytes) and
/// `pagedAttention` over them on every code path.
///
/// Tolerances, per output element:
/// - against naive Double attention over the *stored* values (q * s in Float): only f32 rounding differs,
///   1e-5 absolute, as for the other element types;
/// - against naive attention over the original Float values: each stored value is off by at most half a
///   step, s / 2 = max|x| / 254 over its group, so a score moves by at most
///   δ = scale * Σ_d |q_d| * max|k| / 254 and the output by at most (e^(2δ) - 1 + 1/254) * max|v| (+ 1e-5).
final class PagedAttentionInt8Tests: XCTestCase {
    private func store(_ values: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: PagedKVView.Element.int8.byteCount(values: values.count))
        bytes.withUnsafeMutableBytes { out in
            values.withUnsafeBufferPointer { storeKVElements(output: out.baseAddress!, input: $0.baseAddress!, count: values.count, element: .int8) }
        }
        return bytes
    }

    /// The value each stored element reads back as: its int8 times its group's Float scale.
    private static func decode(_ bytes: [UInt8]) -> [Float] {
        var out: [Float] = []
        for group in stride(from: 0, to: bytes.count, by: 36) {
            let scale = Float(bitPattern: UInt32(bytes[group]) | UInt32(bytes[group + 1]) << 8 | UInt32(bytes[group + 2]) << 16
                              | UInt32(bytes[group + 3]) << 24)
            for i in 0..<32 { out.append(Float(Int8(bitPattern: bytes[group + 4 + i])) * scale) }
        }
        return out
    }

    // MARK: - Quantisation

    func testEachValueIsWithinHalfAStepOfItsGroupsScale() {
        var rng = TestRandom(seed: 71)
        // Groups of very different magnitudes, so each scale is its own.
        let values = (0..<32 * 40).map { i in (rng.nextFloat() * 2 - 1) * Float(1 << (i / 32 % 12)) * 1e-3 }
        let bytes = store(values)
        XCTAssertEqual(bytes.count, 40 * 36)
        let decoded = Self.decode(bytes)
        for g in 0..<40 {
            let group = values[g * 32..<(g + 1) * 32]
            let amax = group.map(abs).max()!
            let scale = Float(bitPattern: UInt32(bytes[g * 36]) | UInt32(bytes[g * 36 + 1]) << 8 | UInt32(bytes[g * 36 + 2]) << 16
                              | UInt32(bytes[g * 36 + 3]) << 24)
            XCTAssertEqual(scale, amax / 127, "group \(g): scale = max|x| / 127")
            for i in g * 32..<(g + 1) * 32 {
                XCTAssertLessThanOrEqual(abs(decoded[i] - values[i]), scale * 0.5 * (1 + 1e-5), "value \(i)")
            }
            // The largest value of the group is stored as ±127 exactly.
            let top = group.indices.max { abs(values[$0]) < abs(values[$1]) }!
            XCTAssertEqual(abs(Int8(bitPattern: bytes[g * 36 + 4 + top - g * 32])), 127)
        }
    }

    func testZerosNaNAndInfinitiesAreStoredSafely() {
        var values = [Float](repeating: 0, count: 32)  // an all-zero group: scale 0, every value 0
        values += [Float](repeating: 0.5, count: 30) + [.nan, -.infinity]  // NaN -> 0, -inf saturates at -127
        values += [Float](repeating: .infinity, count: 32)  // no finite value: scale 0, reads back as 0
        let bytes = store(values)
        let decoded = Self.decode(bytes)
        XCTAssertEqual(Array(decoded[0..<32]), [Float](repeating: 0, count: 32))
        for i in 32..<62 { XCTAssertEqual(decoded[i], 0.5, accuracy: 1e-6) }
        XCTAssertEqual(decoded[62], 0, "NaN stores 0")
        XCTAssertEqual(decoded[63], -0.5, accuracy: 1e-6, "-infinity saturates at -127 steps of the finite scale")
        XCTAssertEqual(Array(decoded[64..<96]), [Float](repeating: 0, count: 32))
        XCTAssertFalse(decoded.contains { !$0.isFinite })
    }

    // MARK: - Attention

    func testInt8AttentionOnEveryPath() {
        var rng = TestRandom(seed: 73)
        // 64: SmolLM2's head size; 32, 96, 128: one group, the AVX-512 64-lane loop plus 16-lane rest.
        for headDim in [64, 32, 96, 128] {
            let heads = 6, kvHeads = 2, blockSize = 4, blockCount = 9
            let width = kvHeads * headDim
            let scale = 1 / Double(headDim).squareRoot()
            let keys = (0..<blockCount * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
            let values = (0..<blockCount * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
            let keyBytes = store(keys), valueBytes = store(values)
            let storedKeys = Self.decode(keyBytes), storedValues = Self.decode(valueBytes)
            let table: [Int32] = [7, 2, 5, 0, 8, 1, 3]
            let query = (0..<heads * headDim).map { _ in rng.nextFloat() * 2 - 1 }
            for entryCount in [1, 3, 4, 5, 13, 28] {
                let stored = PagedAttentionHalfTests.naiveAttention(
                    query: query, keys: storedKeys, values: storedValues, table: table, blockSize: blockSize, width: width,
                    entryCount: entryCount, heads: heads, kvHeads: kvHeads, headDim: headDim)
                let exact = PagedAttentionHalfTests.naiveAttention(
                    query: query, keys: keys, values: values, table: table, blockSize: blockSize, width: width,
                    entryCount: entryCount, heads: heads, kvHeads: kvHeads, headDim: headDim)
                for path in PagedAttentionHalfTests.paths {
                    let output = PagedAttentionTests.attention(
                        query: query, keys: keyBytes, values: valueBytes, element: .int8, table: table, blockSize: blockSize,
                        width: width, entryCount: entryCount, heads: heads, kvHeads: kvHeads, headDim: headDim, path: path)
                    let label = "int8 \(path) headDim \(headDim) entries \(entryCount)"
                    for h in 0..<heads {
                        let kvh = h / (heads / kvHeads)
                        var delta: Double = 0, maxV: Double = 0
                        for e in 0..<entryCount {
                            let offset = Int(table[e / blockSize]) * blockSize * width + (e % blockSize) * width + kvh * headDim
                            var qSum: Double = 0, maxK: Double = 0
                            for d in 0..<headDim {
                                qSum += abs(Double(query[h * headDim + d]))
                                maxK = max(maxK, abs(Double(keys[offset + d])))
                                maxV = max(maxV, abs(Double(values[offset + d])))
                            }
                            delta = max(delta, scale * qSum * maxK / 254)
                        }
                        let bound = (exp(2 * delta) - 1 + 1.0 / 254) * maxV + 1e-5
                        for d in 0..<headDim {
                            let i = h * headDim + d
                            XCTAssertEqual(Double(output[i]), stored[i], accuracy: 1e-5, "\(label) head \(h): vs the stored values")
                            XCTAssertEqual(Double(output[i]), exact[i], accuracy: bound, "\(label) head \(h): vs the Float values")
                        }
                    }
                }
            }
        }
    }
}
