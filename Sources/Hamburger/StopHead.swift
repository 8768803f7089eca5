import Foundation
import Kernels
import Llama

/// The stop head `sigmoid(fc3 · silu(fc2 · silu(fc1 · h + b1) + b2) + b3)`: the probability that the
/// macro step ends after the token read from hidden state `h`. Batched: one GEMM per layer over rows.
public struct StopHead: Sendable {
    public let width: Int
    /// `fc1`, `fc2` `[width][width]`, `fc3` `[1][width]`.
    let layer1: LinearWeight, layer2: LinearWeight, layer3: LinearWeight
    let b1: [Float], b2: [Float], b3: Float

    public init(width: Int, fc1: LinearWeight, b1: [Float], fc2: LinearWeight, b2: [Float], fc3: LinearWeight, b3: Float) {
        self.width = width
        layer1 = fc1
        layer2 = fc2
        layer3 = fc3
        self.b1 = b1
        self.b2 = b2
        self.b3 = b3
    }

    /// Float matrices, row-major.
    public init(width: Int, fc1: [Float], b1: [Float], fc2: [Float], b2: [Float], fc3: [Float], b3: Float) {
        self.init(width: width, fc1: .float(fc1, outputWidth: width, inputWidth: width), b1: b1,
                  fc2: .float(fc2, outputWidth: width, inputWidth: width), b2: b2, fc3: .float(fc3, outputWidth: 1, inputWidth: width), b3: b3)
    }

    /// `[rowCount]` stop probabilities of `hidden` `[rowCount][width]`.
    public func probabilities(_ hidden: [Float], rowCount: Int, pool: ThreadPool? = nil) -> [Float] {
        guard rowCount > 0 else { return [] }
        func siluWithBias(_ x: inout [Float], _ bias: [Float]) {
            let n = bias.count
            for i in 0..<x.count {
                let v = x[i] + bias[i % n]
                x[i] = v / (1 + expf(-v))
            }
        }
        var a = layer1.apply(hidden, rows: rowCount, pool: pool)
        siluWithBias(&a, b1)
        var b = layer2.apply(a, rows: rowCount, pool: pool)
        siluWithBias(&b, b2)
        return layer3.apply(b, rows: rowCount, pool: pool).map { 1 / (1 + expf(-($0 + b3))) }
    }
}
