import Foundation

/// Rotary position embedding in the GGUF / llama.cpp "normal" layout: within each head, adjacent pairs
/// `(x[2i], x[2i+1])` are rotated by `position · theta^(-2i/headDim)`. (GGUF converters permute the Q
/// and K weight rows so that this equals Hugging Face's rotate-halves layout on the original weights.)
public struct RoPE: Sendable {
    public let headDim: Int
    public let theta: Float
    /// `theta^(-2i/headDim)` for i in 0..<headDim/2.
    public let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Float) {
        self.headDim = headDim
        self.theta = theta
        inverseFrequencies = (0..<headDim / 2).map { i in
            Float(1.0 / pow(Double(theta), Double(2 * i) / Double(headDim)))
        }
    }

    /// Rotates `headCount` consecutive heads of `vector` in place for token position `position`.
    public func apply(to vector: UnsafeMutablePointer<Float>, headCount: Int, position: Int) {
        let half = headDim / 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * half) { table in
            for i in 0..<half {
                // Angles in Double so large positions keep their precision, as the references do.
                let angle = Double(position) * Double(inverseFrequencies[i])
                table[2 * i] = Float(cos(angle))
                table[2 * i + 1] = Float(sin(angle))
            }
            for h in 0..<headCount {
                let head = vector + h * headDim
                for i in 0..<half {
                    let c = table[2 * i], s = table[2 * i + 1]
                    let x0 = head[2 * i], x1 = head[2 * i + 1]
                    head[2 * i] = x0 * c - x1 * s
                    head[2 * i + 1] = x0 * s + x1 * c
                }
            }
        }
    }
}
