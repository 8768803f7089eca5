import CBLAS
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
    public func probabilities(_ hidden: [Float], rowCount: Int) -> [Float] {
        guard rowCount > 0 else { return [] }
        let d = width
        var a = [Float](repeating: 0, count: rowCount * d)
        var b = [Float](repeating: 0, count: rowCount * d)
        Dense.apply(&a, hidden, fc1, bias: b1, rows: rowCount, inputWidth: d, outputWidth: d)
        Dense.silu(&a)
        Dense.apply(&b, a, fc2, bias: b2, rows: rowCount, inputWidth: d, outputWidth: d)
        Dense.silu(&b)
        var logits = [Float](repeating: 0, count: rowCount)
        Dense.apply(&logits, b, fc3, bias: [b3], rows: rowCount, inputWidth: d, outputWidth: 1)
        return logits.map { 1 / (1 + expf(-$0)) }
    }
}

/// Float dense-layer helpers over whole arrays (OpenBLAS underneath).
enum Dense {
    /// Up to this many rows go through one GEMV each: OpenBLAS's GEMM packs the whole weight matrix on
    /// every call, which costs more than the product itself for a handful of rows.
    static let gemvRowLimit = 4

    /// `output[rows][outputWidth] = input · Wᵀ (+ bias)` with `W` `[outputWidth][inputWidth]`.
    static func apply(_ output: inout [Float], _ input: [Float], _ weight: [Float], bias: [Float]? = nil,
                      rows: Int, inputWidth: Int, outputWidth: Int) {
        guard rows > 0 else { return }
        input.withUnsafeBufferPointer { i in
            weight.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { o in
                    if rows <= gemvRowLimit {
                        for r in 0..<rows {
                            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(outputWidth), Int32(inputWidth), 1, w.baseAddress!,
                                        Int32(inputWidth), i.baseAddress! + r * inputWidth, 1, 0, o.baseAddress! + r * outputWidth, 1)
                        }
                    } else {
                        matmulTransposed(output: o.baseAddress!, input: i.baseAddress!, weights: w.baseAddress!,
                                         rowCount: rows, inputWidth: inputWidth, outputWidth: outputWidth)
                    }
                    if let bias {
                        for r in 0..<rows { for j in 0..<outputWidth { o[r * outputWidth + j] += bias[j] } }
                    }
                }
            }
        }
    }

    /// `x = x · sigmoid(x)` elementwise.
    static func silu(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = p[i] / (1 + expf(-p[i])) }
        }
    }

    /// RMSNorm of each row.
    static func rmsNorm(_ output: inout [Float], _ input: [Float], weight: [Float], rows: Int, width: Int, epsilon: Float) {
        input.withUnsafeBufferPointer { i in
            weight.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { o in
                    rmsNormRows(output: o.baseAddress!, input: i.baseAddress!, weight: w.baseAddress!, rowCount: rows, width: width, epsilon: epsilon)
                }
            }
        }
    }
}
