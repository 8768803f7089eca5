import XCTest
import TestSupport
@testable import Kernels

/// The int8 products' test data: odd shapes (N = 1, 7, 33, 577; K = 32, 64, 576, 1536; M = 1, 3, 16, 37,
/// plus M past the 64-row blocking) in all three formats, with references summed in Double.
///
/// Tolerances, per output element y[m][n]:
/// - against the product with the int8-rounded input (d*q), only f32 rounding differs:
///   |y - y_ref| <= 1e-5 * sum_k |x̂_k * w_k| + 1e-6;
/// - against the product with the original float input, int8 rounding of x adds at most half a step per
///   element: |y - y_ref| <= 1.01 * sum_k |w_k| * amax(block of x_k)/254 + 1e-5 * sum_k |x_k * w_k| + 1e-6.
enum QuantizedProductFixtures {
    /// Every N with every K; M cycles through 1, 3, 16, 37 so each M meets each N and each K.
    static let shapes: [(m: Int, n: Int, k: Int)] = {
        let ns = [1, 7, 33, 577], ks = [32, 64, 576, 1536], ms = [1, 3, 16, 37]
        var shapes: [(Int, Int, Int)] = []
        for (i, n) in ns.enumerated() {
            for (j, k) in ks.enumerated() { shapes.append((ms[(i + j) % 4], n, k)) }
        }
        shapes.append((70, 33, 64))  // crosses the 64-row block
        shapes.append((5, 9, 544))   // 17 blocks: an odd block count in the last 16-block chunk
        return shapes
    }()

    /// One format and shape with its data and references, computed once and shared by the path tests.
    struct Fixture: Sendable {
        let format: QuantizedFormat
        let shape: (m: Int, n: Int, k: Int)
        let blocks: [UInt8]
        let x: [Float]
        /// The product with the int8-rounded input, and the tight tolerance for each element.
        let quantizedReference: [Double]
        let tightTolerance: [Double]
        /// The product with the float input, and the loose tolerance for each element.
        let floatReference: [Double]
        let looseTolerance: [Double]
    }

    static let all: [Fixture] = {
        var random = TestRandom(seed: 7)
        var fixtures: [Fixture] = []
        for format in QuantizedFormat.allCases {
            for shape in shapes {
                let blocks = QuantizedReference.makeBlocks(format, rows: shape.n, columns: shape.k, random: &random)
                let x = random.activations(count: shape.m * shape.k)
                let w = QuantizedReference.dequantize(format, blocks, rows: shape.n, columns: shape.k)
                // The scalar quantizer: every path gives the same bits (QuantizedActivationsTests).
                let activations = try! QuantizedActivations(rowCapacity: shape.m, columnCount: shape.k)
                try! x.withUnsafeBufferPointer {
                    try quantizeActivations(output: activations, input: $0, rowCount: shape.m, path: .scalar)
                }
                let xq = QuantizedReference.dequantized(activations)
                let quantized = QuantizedReference.matmul(xq, w, rows: shape.m, outputs: shape.n, columns: shape.k)
                let float = QuantizedReference.matmul(x, w, rows: shape.m, outputs: shape.n, columns: shape.k)
                let bound = QuantizedReference.quantizationBound(x, w, rows: shape.m, outputs: shape.n, columns: shape.k)
                fixtures.append(Fixture(
                    format: format, shape: shape, blocks: blocks, x: x, quantizedReference: quantized.values,
                    tightTolerance: quantized.magnitudes.map { 1e-5 * $0 + 1e-6 }, floatReference: float.values,
                    looseTolerance: zip(bound, float.magnitudes).map { 1.01 * $0 + 1e-5 * $1 + 1e-6 }))
            }
        }
        return fixtures
    }()
}
