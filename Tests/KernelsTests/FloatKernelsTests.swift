import Foundation
import XCTest
import TestSupport
@testable import Kernels

/// The Float kernels (GEMM, RMSNorm, RoPE, SwiGLU, softmax, argmax) against naive references written
/// straight from their definitions, on odd shapes.
final class FloatKernelsTests: XCTestCase {
    private var rng = TestRandom(seed: 7)

    private func randomArray(_ n: Int) -> [Float] { (0..<n).map { _ in rng.nextFloat() * 2 - 1 } }

    func testMatmulTransposedMatchesNaive() {
        for (m, k, n) in [(1, 1, 1), (3, 7, 5), (17, 64, 33), (2, 576, 192)] {
            let x = randomArray(m * k), w = randomArray(n * k)
            var y = [Float](repeating: .nan, count: m * n)
            matmulTransposed(output: &y, input: x, weights: w, rowCount: m, inputWidth: k, outputWidth: n)
            for i in 0..<m {
                for j in 0..<n {
                    var s: Double = 0
                    for t in 0..<k { s += Double(x[i * k + t]) * Double(w[j * k + t]) }
                    XCTAssertEqual(Double(y[i * n + j]), s, accuracy: 1e-4 * Double(k).squareRoot(), "m\(m) k\(k) n\(n)")
                }
            }
        }
    }

    func testRMSNormMatchesNaive() {
        for count in [1, 5, 576] {
            let x = randomArray(count), w = randomArray(count)
            var y = [Float](repeating: 0, count: count)
            rmsNorm(output: &y, input: x, weight: w, count: count, epsilon: 1e-5)
            let mean = x.map { Double($0) * Double($0) }.reduce(0, +) / Double(count)
            let scale = 1 / (mean + 1e-5).squareRoot()
            for i in 0..<count { XCTAssertEqual(Double(y[i]), Double(x[i]) * scale * Double(w[i]), accuracy: 1e-5) }
        }
    }

    func testRoPERotatesAdjacentPairs() {
        let headDim = 8, heads = 3, theta: Float = 100000
        let rope = RoPE(headDim: headDim, theta: theta)
        for position in [0, 1, 17, 4000] {
            let x = randomArray(heads * headDim)
            var y = x
            rope.apply(to: &y, headCount: heads, position: position)
            for h in 0..<heads {
                for i in 0..<headDim / 2 {
                    let angle = Double(position) / pow(Double(theta), Double(2 * i) / Double(headDim))
                    let a = Double(x[h * headDim + 2 * i]), b = Double(x[h * headDim + 2 * i + 1])
                    XCTAssertEqual(Double(y[h * headDim + 2 * i]), a * cos(angle) - b * sin(angle), accuracy: 1e-5)
                    XCTAssertEqual(Double(y[h * headDim + 2 * i + 1]), a * sin(angle) + b * cos(angle), accuracy: 1e-5)
                }
            }
        }
        // Position 0 is the identity; norms are preserved.
        let x = randomArray(headDim)
        var y = x
        rope.apply(to: &y, headCount: 1, position: 0)
        XCTAssertEqual(x, y)
    }

    func testSiluSoftmaxArgmax() {
        let g = randomArray(9), u = randomArray(9)
        var out = [Float](repeating: 0, count: 9)
        siluMultiply(output: &out, gate: g, up: u, count: 9)
        for i in 0..<9 { XCTAssertEqual(out[i], g[i] / (1 + exp(-g[i])) * u[i], accuracy: 1e-6) }

        var s: [Float] = [1, 2, 3, 1000]
        softmaxInPlace(&s, count: 4)
        XCTAssertEqual(s[3], 1, accuracy: 1e-6)
        XCTAssertFalse(s.contains { $0.isNaN })
        var t: [Float] = [0, log(3)]
        softmaxInPlace(&t, count: 2)
        XCTAssertEqual(t[0], 0.25, accuracy: 1e-6)
        // The one argmax (greedy sampling uses it too): first of equals, NaN never wins, 0 when empty.
        XCTAssertEqual([1, 5, 5, 2].withUnsafeBufferPointer { argmax($0) }, 1)
        XCTAssertEqual([Float.nan, 0.5, 0.25].withUnsafeBufferPointer { argmax($0) }, 1)
        XCTAssertEqual([Float]().withUnsafeBufferPointer { argmax($0) }, 0)
    }
}

