import CKernels
import Foundation
import XCTest
import TestSupport
@testable import Kernels

/// `pagedAttention` over Float pages on every code path (scalar, AVX2, AVX-512 where the CPU has them)
/// equals naive Double attention over the same entries gathered through a scattered block table.
///
/// Tolerance: 1e-5 relative to the values' scale (`1e-5 * max|v|` per output element). Each output is a
/// convex combination of V rows, and the only differences from the Double reference are Float rounding
/// in the dot products (a few ulps of `scale * Σ|q k|`, moving the softmax weights by ~1e-6) and in the
/// weighted sum.
final class PagedAttentionTests: XCTestCase {
    func testFloat32AttentionOnEveryPathMatchesNaiveDouble() {
        var rng = TestRandom(seed: 11)
        // 64: SmolLM2's head size (whole vectors); 8, 20, 40, 80: AVX2/AVX-512 tails and the 16-wide loops.
        // Query heads per KV head 1, 2, 3 (SmolLM2), 4, and 5 (two passes in the C kernels: 4 + 1).
        let groups = [(heads: 6, kvHeads: 2), (heads: 3, kvHeads: 3), (heads: 4, kvHeads: 2), (heads: 8, kvHeads: 2), (heads: 10, kvHeads: 2)]
        let cases = [64, 8, 20, 40, 80].flatMap { headDim in
            [4, 16].flatMap { blockSize in groups.map { (headDim, blockSize, $0.heads, $0.kvHeads) } }
        }
        for (headDim, blockSize, heads, kvHeads) in cases {
            let blockCount = 11
            let width = kvHeads * headDim
            let keys = (0..<blockCount * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
            let values = (0..<blockCount * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
            let table: [Int32] = [7, 2, 10, 5, 0, 8, 1, 3, 9]  // deliberately out of order, not all blocks
            let query = (0..<heads * headDim).map { _ in rng.nextFloat() * 2 - 1 }
            // One entry, a block but one, a whole block, one more, and many blocks with a partial last one.
            for entryCount in [1, blockSize - 1, blockSize, blockSize + 1, table.count * blockSize - 3] where entryCount > 0 {
                let expected = PagedAttentionHalfTests.naiveAttention(
                    query: query, keys: keys, values: values, table: table, blockSize: blockSize, width: width,
                    entryCount: entryCount, heads: heads, kvHeads: kvHeads, headDim: headDim)
                var maxV: Double = 0
                for e in 0..<entryCount {
                    let start = Int(table[e / blockSize]) * blockSize * width + (e % blockSize) * width
                    for i in start..<start + width { maxV = max(maxV, abs(Double(values[i]))) }
                }
                for path in PagedAttentionHalfTests.paths {
                    let output = Self.attention(query: query, keys: keys, values: values, table: table, blockSize: blockSize,
                                           width: width, entryCount: entryCount, heads: heads, kvHeads: kvHeads,
                                           headDim: headDim, path: path)
                    let label = "\(path) headDim \(headDim) heads \(heads)/\(kvHeads) blockSize \(blockSize) entries \(entryCount)"
                    for i in 0..<heads * headDim {
                        XCTAssertEqual(Double(output[i]), expected[i], accuracy: 1e-5 * maxV, "\(label) element \(i)")
                    }
                }
            }
        }
    }

    /// With one entry the softmax weight is exactly 1, so every path returns that entry's V head exactly.
    func testFloat32SingleEntryReturnsItsValuesExactly() {
        var rng = TestRandom(seed: 13)
        let heads = 9, kvHeads = 3, headDim = 20, blockSize = 16
        let width = kvHeads * headDim
        let keys = (0..<4 * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
        let values = (0..<4 * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
        let query = (0..<heads * headDim).map { _ in rng.nextFloat() * 2 - 1 }
        for path in PagedAttentionHalfTests.paths {
            let output = Self.attention(query: query, keys: keys, values: values, table: [2], blockSize: blockSize, width: width,
                                   entryCount: 1, heads: heads, kvHeads: kvHeads, headDim: headDim, path: path)
            for h in 0..<heads {
                let start = 2 * blockSize * width + (h / 3) * headDim
                XCTAssertEqual(Array(output[h * headDim..<(h + 1) * headDim]), Array(values[start..<start + headDim]), "\(path) head \(h)")
            }
        }
    }

    /// Scoring and summing the query heads of a KV group in one pass gives exactly the bits of each head
    /// alone (a view shifted to that KV head, one query head, one KV head), on every path and element type.
    func testGroupedHeadsMatchEachHeadAloneBitForBit() {
        for element in PagedKVView.Element.allCases {
            // 84: every vector loop and a scalar tail; int8 heads are whole groups of 32 (96: 64 + 2 * 16).
            checkGroupedHeads(element, headDim: element == .int8 ? 96 : 84)
        }
    }

    private func checkGroupedHeads(_ element: PagedKVView.Element, headDim: Int) {
        var rng = TestRandom(seed: 23)
        let heads = 10, kvHeads = 2, blockSize = 16, entryCount = 37
        let width = kvHeads * headDim, group = heads / kvHeads
        let keys = (0..<4 * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
        let values = (0..<4 * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
        let query = (0..<heads * headDim).map { _ in rng.nextFloat() * 2 - 1 }
        let table: [Int32] = [3, 0, 2]
        do {
            var keyPages = [UInt8](repeating: 0, count: element.byteCount(values: keys.count)), valuePages = keyPages
            keyPages.withUnsafeMutableBytes { storeKVElements(output: $0.baseAddress!, input: keys, count: keys.count, element: element) }
            valuePages.withUnsafeMutableBytes { storeKVElements(output: $0.baseAddress!, input: values, count: values.count, element: element) }
            for path in PagedAttentionHalfTests.paths {
                var grouped = [Float](repeating: .nan, count: heads * headDim), alone = grouped
                var scores = [Float](repeating: .nan, count: pagedAttentionScoreCount(entryCount: entryCount, headCount: heads, kvHeadCount: kvHeads))
                keyPages.withUnsafeBytes { kp in
                    valuePages.withUnsafeBytes { vp in
                        table.withUnsafeBufferPointer { tp in
                            let view = PagedKVView(keys: kp.baseAddress!, values: vp.baseAddress!, element: element,
                                                   blockTable: tp.baseAddress!, blockSize: blockSize, entryWidth: width)
                            pagedAttention(output: &grouped, query: query, kv: view, entryCount: entryCount, headCount: heads,
                                           kvHeadCount: kvHeads, headDim: headDim, scores: &scores, path: path)
                            for h in 0..<heads {
                                var one = view
                                one.keys = kp.baseAddress! + element.byteCount(values: (h / group) * headDim)
                                one.values = vp.baseAddress! + element.byteCount(values: (h / group) * headDim)
                                alone.withUnsafeMutableBufferPointer { out in
                                    query.withUnsafeBufferPointer { q in
                                        pagedAttention(output: out.baseAddress! + h * headDim, query: q.baseAddress! + h * headDim, kv: one,
                                                       entryCount: entryCount, headCount: 1, kvHeadCount: 1, headDim: headDim,
                                                       scores: &scores, path: path)
                                    }
                                }
                            }
                        }
                    }
                }
                XCTAssertEqual(grouped.map(\.bitPattern), alone.map(\.bitPattern), "\(element) \(path)")
                XCTAssertFalse(grouped.contains { $0.isNaN }, "\(element) \(path): every head written")
            }
        }
    }

    /// Head counts that are not a multiple of the KV head count give NaN outputs, not a crash or garbage.
    func testMismatchedHeadCountsGiveNaN() {
        let pages = [Float](repeating: 1, count: 4 * 16), table: [Int32] = [0], query = [Float](repeating: 1, count: 5 * 8)
        var output = [Float](repeating: 0, count: 5 * 8), scores = [Float](repeating: 0, count: 8)
        for kvHeads in [0, 2] {
            pages.withUnsafeBufferPointer { p in
                table.withUnsafeBufferPointer { t in
                    let view = PagedKVView(keys: p.baseAddress!, values: p.baseAddress!, blockTable: t.baseAddress!, blockSize: 4, entryWidth: 16)
                    pagedAttention(output: &output, query: query, kv: view, entryCount: 1, headCount: 5, kvHeadCount: kvHeads,
                                   headDim: 8, scores: &scores)
                }
            }
            XCTAssertTrue(output.allSatisfy(\.isNaN), "5 heads over \(kvHeads) KV heads")
        }
    }

    /// The C entry points reject what they cannot read: an unknown format scores nothing and sums to zeros.
    func testUnknownFormatWritesZeros() {
        let pages = [Float](repeating: 1, count: 64), table: [Int32] = [0], q = [Float](repeating: 1, count: 8)
        var out = [Float](repeating: .nan, count: 8), scores: [Float] = [-7]
        ck_kv_scores(&scores, q, 1, pages, ck_kv_format(rawValue: 9), table, 4, 16, 0, 8, 1, 1, CK_PATH_AUTO)
        ck_kv_weighted_sum(&out, [1], 1, pages, ck_kv_format(rawValue: 9), table, 4, 16, 0, 8, 1, CK_PATH_AUTO)
        XCTAssertEqual(scores, [-7], "scores untouched")
        XCTAssertEqual(out, [Float](repeating: 0, count: 8))
        XCTAssertEqual(ck_kv_span_bytes(CK_KV_F32, 3), 12)
        XCTAssertEqual(ck_kv_span_bytes(CK_KV_BF16, 3), 6)
        XCTAssertEqual(ck_kv_span_bytes(CK_KV_Q8, 64), 72)
        XCTAssertEqual(ck_kv_span_bytes(CK_KV_Q8, 33), 0, "int8 pages hold whole groups of 32")
        XCTAssertEqual(ck_kv_span_bytes(ck_kv_format(rawValue: 9), 4), 0)
    }

    /// int8 pages whose head size or head offset is not a whole number of 32-value groups cannot be read:
    /// scores are left alone and sums are zeros, never a read across a group's scale.
    func testInt8WithPartialGroupsWritesZeros() {
        let pages = [UInt8](repeating: 1, count: 4 * 72), table: [Int32] = [0], q = [Float](repeating: 1, count: 48)
        var out = [Float](repeating: .nan, count: 48), scores: [Float] = [-7]
        for (width, offset, dim) in [(64, 0, 48), (64, 16, 32), (48, 0, 48)] as [(Int32, Int32, Int32)] {
            ck_kv_scores(&scores, q, 1, pages, CK_KV_Q8, table, 4, width, offset, dim, 1, 1, CK_PATH_AUTO)
            ck_kv_weighted_sum(&out, [1], 1, pages, CK_KV_Q8, table, 4, width, offset, dim, 1, CK_PATH_AUTO)
            XCTAssertEqual(scores, [-7], "width \(width) offset \(offset) dim \(dim): scores untouched")
            XCTAssertEqual(Array(out[0..<Int(dim)]), [Float](repeating: 0, count: Int(dim)))
        }
    }

    /// `pagedAttention` over pages given as arrays (`keys` / `values` hold `element`s: Float arrays for
    /// float32, the 16-bit patterns for bfloat16 / float16).
    static func attention<Key, Value>(query: [Float], keys: [Key], values: [Value],
                          element: PagedKVView.Element = .float32, table: [Int32], blockSize: Int, width: Int,
                          entryCount: Int, heads: Int, kvHeads: Int, headDim: Int, path: KernelPath) -> [Float] {
        var output = [Float](repeating: .nan, count: heads * headDim)
        var scores = [Float](repeating: .nan, count: pagedAttentionScoreCount(entryCount: entryCount, headCount: heads, kvHeadCount: kvHeads))
        keys.withUnsafeBytes { kp in
            values.withUnsafeBytes { vp in
                table.withUnsafeBufferPointer { tp in
                    let view = PagedKVView(keys: kp.baseAddress!, values: vp.baseAddress!, element: element,
                                           blockTable: tp.baseAddress!, blockSize: blockSize, entryWidth: width)
                    pagedAttention(output: &output, query: query, kv: view, entryCount: entryCount, headCount: heads,
                                   kvHeadCount: kvHeads, headDim: headDim, scores: &scores, path: path)
                }
            }
        }
        return output
    }
}
