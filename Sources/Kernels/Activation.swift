import Foundation

/// SwiGLU: `output[i] = silu(gate[i]) * up[i]` with `silu(x) = x / (1 + e^-x)`. Output may alias gate.
@inline(__always)
public func siluMultiply(output: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let g = gate[i]
        output[i] = g / (1 + expf(-g)) * up[i]
    }
}

/// In-place softmax over `count` floats (max-subtracted for stability).
@inline(__always)
public func softmaxInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    var maxValue = values[0]
    for i in 1..<count where values[i] > maxValue { maxValue = values[i] }
    var sum: Float = 0
    for i in 0..<count {
        let e = expf(values[i] - maxValue)
        values[i] = e
        sum += e
    }
    let inv = 1 / sum
    for i in 0..<count { values[i] *= inv }
}

/// Index of the largest value, the lowest index among equals; 0 for an empty buffer. NaN never wins
/// (a row of NaNs gives 0). The one argmax: greedy sampling, softmax shifts and benchmarks use it.
public func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    var bestValue = -Float.infinity
    for index in values.indices where values[index] > bestValue {
        best = index
        bestValue = values[index]
    }
    return best
}
