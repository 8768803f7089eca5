import CBLAS
import Foundation
import Kernels

/// Float dense-layer helpers over whole arrays for the grafted modules (the base has its own kernels).
///
/// Products are split by output columns over the model's thread pool, each part one single-threaded
/// OpenBLAS call on its rows of the weight matrix: OpenBLAS's own threads fight the pool's workers
/// for the cores (measured: tens of milliseconds per tiny product on a busy 2-core machine), so
/// `HamburgerRuntime` keeps OpenBLAS at one thread when the base does not use it.
enum Dense {
    /// Up to this many rows go through one GEMV each: OpenBLAS's GEMM packs the whole weight matrix on
    /// every call, which costs more than the product itself for a handful of rows.
    static let gemvRowLimit = 4
    /// Products smaller than this many multiply-adds run in one part.
    static let splitThreshold = 1 << 18

    /// `output[rows][outputWidth] = input · Wᵀ (+ bias)` with `W` `[outputWidth][inputWidth]`.
    static func apply(_ output: inout [Float], _ input: [Float], _ weight: [Float], bias: [Float]? = nil,
                      rows: Int, inputWidth: Int, outputWidth: Int, pool: ThreadPool? = nil) {
        guard rows > 0, outputWidth > 0 else { return }
        let k = inputWidth, n = outputWidth
        let parts = rows * k * n < splitThreshold ? 1 : min(pool?.threadCount ?? 1, max(1, n / 64))
        input.withUnsafeBufferPointer { i in
            weight.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { o in
                    let x = i.baseAddress!, wp = w.baseAddress!, y = o.baseAddress!
                    func part(_ p: Int) {
                        let start = n * p / parts, end = n * (p + 1) / parts
                        guard end > start else { return }
                        if rows <= gemvRowLimit {
                            for r in 0..<rows {
                                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(end - start), Int32(k), 1, wp + start * k, Int32(k),
                                            x + r * k, 1, 0, y + r * n + start, 1)
                            }
                        } else {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(end - start), Int32(k),
                                        1, x, Int32(k), wp + start * k, Int32(k), 0, y + start, Int32(n))
                        }
                    }
                    if parts == 1 || pool == nil {
                        for p in 0..<parts { part(p) }
                    } else {
                        pool!.run(taskCount: parts) { p, _ in part(p) }
                    }
                    if let bias {
                        for r in 0..<rows { for j in 0..<n { y[r * n + j] += bias[j] } }
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
