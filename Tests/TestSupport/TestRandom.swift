/// Deterministic random numbers for test data (SplitMix64), shared by every test target so that a
/// failing case reproduces from its seed. Also a `RandomNumberGenerator` for `Int.random(in:using:)`.
public struct TestRandom: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextFloat() }

    public mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    /// Roughly normal activations with occasional large outliers, like a transformer's hidden state.
    public mutating func activations(count: Int) -> [Float] {
        (0..<count).map { i in
            let gaussian = (uniform(-1, 1) + uniform(-1, 1) + uniform(-1, 1)) * 0.8
            return i % 97 == 5 ? gaussian * 20 : gaussian
        }
    }
}
