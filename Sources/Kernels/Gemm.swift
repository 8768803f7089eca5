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
