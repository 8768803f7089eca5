import Foundation
import XCTest
import TestSupport
@testable import Kernels

/// `pagedAttention` reading scattered blocks through a block table equals naive attention over the same
/// entries laid out contiguously.
final class PagedAttentionTests: XCTestCase {
    func testPagedAttentionMatchesContiguousNaive() {
        var rng = TestRandom(seed: 11)
        let heads = 6, kvHeads = 2, headDim = 8, blockSize = 4, blockCount = 9
        let width = kvHeads * headDim
        for entryCount in [1, 3, 4, 5, 13] {
            var keys = (0..<blockCount * blockSize * width).map { _ in rng.nextFloat() - 0.5 }
            var values = (0..<blockCount * blockSize * width).map { _ in rng.nextFloat() - 0.5 }
            let table: [Int32] = [7, 2, 5, 0]  // deliberately out of order
            let query = (0..<heads * headDim).map { _ in rng.nextFloat() - 0.5 }
            var output = [Float](repeating: .nan, count: heads * headDim)
            var scores = [Float](repeating: 0, count: entryCount)
            keys.withUnsafeMutableBufferPointer { kp in
                values.withUnsafeMutableBufferPointer { vp in
                    table.withUnsafeBufferPointer { tp in
                        let view = PagedKVView(keys: kp.baseAddress!, values: vp.baseAddress!, blockTable: tp.baseAddress!, blockSize: blockSize, entryWidth: width)
                        pagedAttention(output: &output, query: query, kv: view, entryCount: entryCount, headCount: heads,
                                       kvHeadCount: kvHeads, headDim: headDim, scores: &scores)
                    }
                }
            }
            // Naive: gather entries, then softmax(q·k/sqrt(d)) v per head.
            func entry(_ pages: [Float], _ e: Int) -> ArraySlice<Float> {
                let start = Int(table[e / blockSize]) * blockSize * width + (e % blockSize) * width
                return pages[start..<start + width]
            }
            for h in 0..<heads {
                let kvh = h / (heads / kvHeads)
                var logits: [Double] = []
                for e in 0..<entryCount {
                    let k = Array(entry(keys, e))
                    var dot: Double = 0
                    for d in 0..<headDim { dot += Double(query[h * headDim + d]) * Double(k[kvh * headDim + d]) }
                    logits.append(dot / Double(headDim).squareRoot())
                }
                let m = logits.max()!
                let w = logits.map { exp($0 - m) }
                let z = w.reduce(0, +)
                for d in 0..<headDim {
                    var acc: Double = 0
                    for e in 0..<entryCount { acc += w[e] / z * Double(Array(entry(values, e))[kvh * headDim + d]) }
                    XCTAssertEqual(Double(output[h * headDim + d]), acc, accuracy: 1e-5, "entries \(entryCount) head \(h)")
                }
            }
        }
    }
}
