import CBLAS
import Foundation
import Kernels

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
