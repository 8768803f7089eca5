import Foundation
import XCTest
import TestSupport
@testable import Kernels

/// `pagedAttention` over bfloat16 and float16 pages, and `storeKVElements` that writes them, on every
/// code path (scalar, AVX2, AVX-512 where the CPU has them), for head sizes with and without vector tails.
///
/// Tolerances, per output element:
/// - against naive Double attention over the *stored* (rounded, then widened) values: only f32 rounding
///   differs, 1e-5 absolute (as for Float pages);
/// - against naive attention over the original Float values: rounding each stored value to relative
///   error u (bf16 2^-9, f16 2^-11) moves each score by at most δ = u * scale * Σ_d |q_d k_d|, so the
///   softmax weights move by at most e^(2δ) - 1 in total, and the output by at most
///   (e^(2δ) - 1 + u) * max|v| (+ 1e-5 for f32 rounding).
final class PagedAttentionHalfTests: XCTestCase {
    static let paths: [KernelPath] = [.scalar, .avx2, .avx512].filter { $0.isSupported(for: .kvCache) }

    private func store(_ values: [Float], _ element: PagedKVView.Element, path: KernelPath = .automatic) -> [UInt16] {
        var bits = [UInt16](repeating: 0, count: values.count)
        bits.withUnsafeMutableBytes { out in
            values.withUnsafeBufferPointer { storeKVElements(output: out.baseAddress!, input: $0.baseAddress!, count: values.count, element: element, path: path) }
        }
        return bits
    }

    private static func widen(_ bits: UInt16, _ element: PagedKVView.Element) -> Float {
        element == .float16 ? Float(Float16(bitPattern: bits)) : Float(bitPattern: UInt32(bits) << 16)
    }

    // MARK: - Conversion

    func testFloat16ConversionMatchesSwiftFloat16OnEveryPath() {
        var random = TestRandom(seed: 41)
        // Random bit patterns (every exponent), values near the half range's edges, ties and specials.
        var values = (0..<2000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: random.next())) }
        values += (0..<500).map { _ in random.uniform(-70000, 70000) }
        values += (0..<500).map { _ in random.uniform(-1, 1) * 1e-4 }
        values += [65504, 65519.99, 65520, -65520, 1e-8, 2.9802322e-8, 2.9802326e-8, 5.9604645e-8, 6.1035156e-5,
                   Float(bitPattern: 0x3F80_1000), Float(bitPattern: 0x3F80_3000), .infinity, -.infinity, 0, -0.0,
                   Float(bitPattern: 0x0000_0001), 1, -2.5]
        let finite = values.filter { !$0.isNaN }
        let expected = finite.map { Float16($0).bitPattern }
        for path in Self.paths {
            XCTAssertEqual(store(finite, .float16, path: path), expected, "\(path)")
            let nans = store([Float](repeating: Float(bitPattern: 0x7F80_0001), count: 19) + [-.nan], .float16, path: path)
            XCTAssertTrue(nans.allSatisfy { Float16(bitPattern: $0).isNaN }, "\(path): NaN stays NaN")
        }
    }

    func testBFloat16StoreMatchesTheBF16Conversion() throws {
        var random = TestRandom(seed: 43)
        let values = (0..<777).map { _ in random.uniform(-4, 4) }
        var expected = [UInt16](repeating: 0, count: values.count)
        try expected.withUnsafeMutableBufferPointer { out in try values.withUnsafeBufferPointer { try convertToBF16(output: out, input: $0) } }
        for path in Self.paths {
            XCTAssertEqual(store(values, .bfloat16, path: path), expected, "\(path)")
        }
    }

    func testFloat32StoreCopiesExactly() {
        let values: [Float] = [1.5, -0.1, .pi, 1e-30, 7]
        var out = [Float](repeating: 0, count: values.count)
        out.withUnsafeMutableBytes { o in
            values.withUnsafeBufferPointer { storeKVElements(output: o.baseAddress!, input: $0.baseAddress!, count: values.count, element: .float32) }
        }
        XCTAssertEqual(out, values)
    }

    // MARK: - Attention

    func testBFloat16AttentionOnEveryPath() throws { try checkAttention(.bfloat16, unitRoundoff: 0x1p-9) }
    func testFloat16AttentionOnEveryPath() throws { try checkAttention(.float16, unitRoundoff: 0x1p-11) }

    private func checkAttention(_ element: PagedKVView.Element, unitRoundoff u: Double) throws {
        var rng = TestRandom(seed: element == .float16 ? 17 : 19)
        // 64: SmolLM2's head size (whole vectors); 8, 20, 40, 80: AVX2/AVX-512 tails and the 16-wide loop.
        for headDim in [64, 8, 20, 40, 80] {
            let heads = 6, kvHeads = 2, blockSize = 4, blockCount = 9
            let width = kvHeads * headDim
            let scale = 1 / Double(headDim).squareRoot()
            let keys = (0..<blockCount * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
            let values = (0..<blockCount * blockSize * width).map { _ in rng.nextFloat() * 2 - 1 }
            let keyBits = store(keys, element), valueBits = store(values, element)
            let storedKeys = keyBits.map { Self.widen($0, element) }, storedValues = valueBits.map { Self.widen($0, element) }
            let table: [Int32] = [7, 2, 5, 0, 8, 1, 3]  // deliberately out of order
            let query = (0..<heads * headDim).map { _ in rng.nextFloat() * 2 - 1 }
            for entryCount in [1, 3, 4, 5, 13, 28] {
                for path in Self.paths {
                    let output = PagedAttentionTests.attention(query: query, keys: keyBits, values: valueBits, element: element,
                                                               table: table, blockSize: blockSize, width: width, entryCount: entryCount,
                                                               heads: heads, kvHeads: kvHeads, headDim: headDim, path: path)
                    let label = "\(element) \(path) headDim \(headDim) entries \(entryCount)"
                    let stored = Self.naiveAttention(query: query, keys: storedKeys, values: storedValues, table: table, blockSize: blockSize,
                                                     width: width, entryCount: entryCount, heads: heads, kvHeads: kvHeads, headDim: headDim)
                    let exact = Self.naiveAttention(query: query, keys: keys, values: values, table: table, blockSize: blockSize,
                                                    width: width, entryCount: entryCount, heads: heads, kvHeads: kvHeads, headDim: headDim)
                    for h in 0..<heads {
                        // The bound against the unrounded values (see the type's comment).
                        let kvh = h / (heads / kvHeads)
                        var delta: Double = 0, maxV: Double = 0
                        for e in 0..<entryCount {
                            let offset = Int(table[e / blockSize]) * blockSize * width + (e % blockSize) * width + kvh * headDim
                            var sum: Double = 0
                            for d in 0..<headDim {
                                sum += abs(Double(query[h * headDim + d]) * Double(keys[offset + d]))
                                maxV = max(maxV, abs(Double(values[offset + d])))
                            }
                            delta = max(delta, u * scale * sum)
                        }
                        let bound = (exp(2 * delta) - 1 + u) * maxV + 1e-5
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

    /// softmax(q·k / sqrt(headDim)) v per head in Double, over entries gathered through the block table.
    static func naiveAttention(query: [Float], keys: [Float], values: [Float], table: [Int32], blockSize: Int, width: Int,
                               entryCount: Int, heads: Int, kvHeads: Int, headDim: Int) -> [Double] {
        var output = [Double](repeating: 0, count: heads * headDim)
        for h in 0..<heads {
            let kvh = h / (heads / kvHeads)
            var offsets: [Int] = []
            var logits: [Double] = []
            for e in 0..<entryCount {
                let offset = Int(table[e / blockSize]) * blockSize * width + (e % blockSize) * width + kvh * headDim
                var dot: Double = 0
                for d in 0..<headDim { dot += Double(query[h * headDim + d]) * Double(keys[offset + d]) }
                offsets.append(offset)
                logits.append(dot / Double(headDim).squareRoot())
            }
            let m = logits.max()!
            let w = logits.map { exp($0 - m) }
            let z = w.reduce(0, +)
            for d in 0..<headDim {
                var acc: Double = 0
                for e in 0..<entryCount { acc += w[e] / z * Double(values[offsets[e] + d]) }
                output[h * headDim + d] = acc
            }
        }
        return output
    }

    func testElementWidths() {
        XCTAssertEqual(PagedKVView.Element.allCases.map { $0.byteCount(values: 64) }, [256, 128, 128, 72])
        XCTAssertTrue(KernelPath.scalar.isSupported(for: .kvCache), "the scalar path runs everywhere")
    }
}
