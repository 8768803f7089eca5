import CBLAS

/// `output[M][N] = input[M][K] · weights[N][K]ᵀ` in Float through OpenBLAS: the shape of every linear
/// layer (weights stored as `[out][in]`, as GGUF stores them). Output-first, pure.
@inline(__always)
public func matmulTransposed(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
    rowCount m: Int, inputWidth k: Int, outputWidth n: Int
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                1, input, Int32(k), weights, Int32(k), 0, output, Int32(n))
}

/// Sets how many threads OpenBLAS uses for GEMMs (0 keeps its default: all cores).
public func setBLASThreadCount(_ count: Int) {
    if count > 0 { openblas_set_num_threads(Int32(count)) }
}

/// `output[M][N] = input[M][K] · weights[N][K]ᵀ` split by output columns over `pool`, each part one
/// single-threaded OpenBLAS call on its rows of the weight matrix (GEMV per row for a few rows: GEMM
/// packs the whole weight matrix on every call, which costs more than the product for a handful of
/// rows). Small products run in one part. OpenBLAS's own threads would fight the pool's workers for
/// the cores, so the executable keeps OpenBLAS at one thread.
public func matmulTransposed(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
    rowCount m: Int, inputWidth k: Int, outputWidth n: Int, pool: ThreadPool?
) {
    guard m > 0, n > 0 else { return }
    /// Up to this many rows go through one GEMV each.
    let gemvRowLimit = 4
    /// Products smaller than this many multiply-adds run in one part.
    let splitThreshold = 1 << 18
    let parts = m * k * n < splitThreshold ? 1 : min(pool?.threadCount ?? 1, max(1, n / 64))
    func part(_ p: Int) {
        let start = n * p / parts, end = n * (p + 1) / parts
        guard end > start else { return }
        if m <= gemvRowLimit {
            for r in 0..<m {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(end - start), Int32(k), 1, weights + start * k, Int32(k),
                            input + r * k, 1, 0, output + r * n + start, 1)
            }
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(end - start), Int32(k),
                        1, input, Int32(k), weights + start * k, Int32(k), 0, output + start, Int32(n))
        }
    }
    if parts == 1 || pool == nil {
        for p in 0..<parts { part(p) }
    } else {
        pool!.run(taskCount: parts) { p, _ in part(p) }
    }
}
