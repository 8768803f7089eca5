import CKernels

/// `output[m][n] = Σ_k input[m][k] · W[n][k]` for `rowCount` Float rows and `W` `[outputWidth][inputWidth]`
/// stored as IEEE half bit patterns, widened exactly to Float as they are read and accumulated in Float.
/// For weights that are halves already (a HAMburger adapter's safetensors): the products of their Float
/// copies at half the bytes read, which is what decides the speed of the few-row micro-decoder steps.
/// Work is split over W's rows across `pool` (nil: this thread). Output-first, pure.
public func halfWeightMatmul(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weights: UnsafePointer<UInt16>,
    rowCount: Int, inputWidth: Int, outputWidth: Int, pool: ThreadPool? = nil, path: KernelPath = .automatic
) throws {
    guard rowCount > 0, outputWidth > 0, inputWidth > 0 else { return }
    let cPath = try path.checked(for: .halfWeights)
    ck_f16w_matmul(output, outputWidth, input, inputWidth, weights, Int32(rowCount), Int32(outputWidth), Int32(inputWidth),
                   cPath, pool?.handle)
}
