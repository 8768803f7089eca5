import Foundation
import Kernels

/// The stop head `sigmoid(fc3 · silu(fc2 · silu(fc1 · h + b1) + b2) + b3)`: the probability that the
/// macro step ends after the token read from hidden state `h`. Batched: one GEMM per layer over rows.
public struct StopHead: Sendable {
    public let width: Int
    let fc1: [Float], b1: [Float], fc2: [Float], b2: [Float], fc3: [Float], b3: Float

    public init(width: Int, fc1: [Float], b1: [Float], fc2: [Float], b2: [Float], fc3: [Float], b3: Float) {
        self.width = width
        self.fc1 = fc1
        self.b1 = b1
        self.fc2 = fc2
        self.b2 = b2
        self.fc3 = fc3
        self.b3 = b3
    }

    /// `[rowCount]` stop probabilities of `hidden` `[rowCount][width]`.
    public func probabilities(_ hidden: [Float], rowCount: Int, pool: ThreadPool? = nil) -> [Float] {
        guard rowCount > 0 else { return [] }
        let d = width
        var a = [Float](repeating: 0, count: rowCount * d)
        var b = [Float](repeating: 0, count: rowCount * d)
        Dense.apply(&a, hidden, fc1, bias: b1, rows: rowCount, inputWidth: d, outputWidth: d, pool: pool)
        Dense.silu(&a)
        Dense.apply(&b, a, fc2, bias: b2, rows: rowCount, inputWidth: d, outputWidth: d, pool: pool)
        Dense.silu(&b)
        var logits = [Float](repeating: 0, count: rowCount)
        Dense.apply(&logits, b, fc3, bias: [b3], rows: rowCount, inputWidth: d, outputWidth: 1, pool: pool)
        return logits.map { 1 / (1 + expf(-$0)) }
    }
}
