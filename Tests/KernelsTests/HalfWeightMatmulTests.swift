import XCTest
import TestSupport
@testable import Kernels

/// `halfWeightMatmul` on every path against a naive Double reference over the halves widened exactly,
/// for odd shapes (M = 1..9 and 70, N = 1, 3, 7, 33; K = 1, 15, 17, 64, 576), with and without a pool.
/// Only f32 accumulation order differs: |y - y_ref| <= 1e-5 * sum_k |x_k w_k| + 1e-6.
final class HalfWeightMatmulTests: XCTestCase {
    private static func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { i in Float(((i * 7919 + seed * 104_729) % 2001) - 1000) / 997 }
    }

    func testEveryPathMatchesTheNaiveProduct() throws {
        let pool = try ThreadPool(threadCount: 2)
        let paths = [KernelPath.scalar, .avx2, .avx512].filter { $0.isSupported(for: .halfWeights) }
        XCTAssertTrue(paths.contains(.scalar))
        for (m, n, k) in [(1, 1, 1), (1, 7, 15), (3, 33, 17), (4, 3, 64), (5, 33, 576), (9, 7, 64), (70, 33, 576)] {
            let x = Self.values(m * k, seed: m + k)
            // Weights as halves (Float16 rounding of the pattern), plus a denormal and a negative zero.
            var halves = Self.values(n * k, seed: n * 3 + k).map { Float16($0).bitPattern }
            halves[0] = 0x0001
            if halves.count > 1 { halves[1] = 0x8000 }
            var reference = [Double](repeating: 0, count: m * n), magnitude = reference
            for r in 0..<m {
                for c in 0..<n {
                    for i in 0..<k {
                        let p = Double(x[r * k + i]) * Double(Float(Float16(bitPattern: halves[c * k + i])))
                        reference[r * n + c] += p
                        magnitude[r * n + c] += abs(p)
                    }
                }
            }
            for path in paths {
                for threads in [nil, pool] {
                    var y = [Float](repeating: .nan, count: m * n)
                    try halfWeightMatmul(output: &y, input: x, weights: halves, rowCount: m, inputWidth: k, outputWidth: n,
                                         pool: threads, path: path)
                    for i in 0..<(m * n) {
                        XCTAssertLessThanOrEqual(abs(Double(y[i]) - reference[i]), 1e-5 * magnitude[i] + 1e-6,
                                                 "\(path) m=\(m) n=\(n) k=\(k) element \(i)")
                    }
                }
            }
        }
    }
}
