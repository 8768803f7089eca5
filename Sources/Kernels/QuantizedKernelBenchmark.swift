import CKernels

/// A small timing harness for the quantized products, for `hamburger bench` to call (never from tests:
/// timings are not assertions). It fills synthetic blocks of the given shape, quantizes synthetic
/// activations once, and times `quantizedMatmul` alone.
public enum QuantizedKernelBenchmark {
    /// One product shape: y[batchRowCount][outputCount] = x[batchRowCount][inputCount] * W^T.
    public struct Case: Sendable, CustomStringConvertible {
        public var format: QuantizedFormat
        /// M: activation rows (tokens in the batch).
        public var batchRowCount: Int
        /// N: weight rows (output features).
        public var outputCount: Int
        /// K: input features, a multiple of 32.
        public var inputCount: Int

        public init(format: QuantizedFormat, batchRowCount: Int, outputCount: Int, inputCount: Int) {
            self.format = format
            self.batchRowCount = batchRowCount
            self.outputCount = outputCount
            self.inputCount = inputCount
        }

        public var description: String {
            "\(format) M=\(batchRowCount) N=\(outputCount) K=\(inputCount)"
        }
    }

    /// The timing of one case on one thread count.
    public struct Result: Sendable, CustomStringConvertible {
        public var benchmarkCase: Case
        public var threadCount: Int
        public var path: KernelPath
        /// Mean wall time of one product.
        public var secondsPerCall: Double
        /// 2*M*N*K / time, in 1e9 per second.
        public var gigaflopsPerSecond: Double
        /// Weight bytes / time, in 1e9 bytes per second (what bounds M = 1).
        public var weightGigabytesPerSecond: Double

        public var description: String {
            func tenths(_ value: Double) -> String { "\(Double(Int(value * 10 + 0.5)) / 10)" }  // values are >= 0
            return "\(benchmarkCase) threads=\(threadCount) \(path): \(tenths(secondsPerCall * 1e6)) us, "
                + "\(tenths(gigaflopsPerSecond)) GFLOP/s, \(tenths(weightGigabytesPerSecond)) GB/s of weights"
        }
    }

    /// The SmolLM2-135M shapes: the FFN up/gate (N=1536, K=576) and down (N=576, K=1536) products at
    /// M = 1 and 16, and the tied LM head (Q8_0 token embeddings, N=49152, K=576) at M = 1.
    public static let smolLM2Cases: [Case] = [
        Case(format: .q4_1, batchRowCount: 1, outputCount: 1536, inputCount: 576),
        Case(format: .q4_1, batchRowCount: 16, outputCount: 1536, inputCount: 576),
        Case(format: .q4_1, batchRowCount: 1, outputCount: 576, inputCount: 1536),
        Case(format: .q4_1, batchRowCount: 16, outputCount: 576, inputCount: 1536),
        Case(format: .q8_0, batchRowCount: 1, outputCount: 49152, inputCount: 576),
        Case(format: .q4_1, batchRowCount: 1, outputCount: 49152, inputCount: 576),
    ]

    /// Times every case on pools of each of `threadCounts`, repeating each product for at least
    /// `minimumSeconds` after a warm-up.
    public static func run(_ cases: [Case] = smolLM2Cases, threadCounts: [Int] = [1, 2],
                           path: KernelPath = .automatic, minimumSeconds: Double = 0.3) throws -> [Result] {
        var results: [Result] = []
        for threads in threadCounts {
            let pool = try ThreadPool(threadCount: threads)
            for benchmarkCase in cases {
                results.append(try measure(benchmarkCase, pool: pool, path: path, minimumSeconds: minimumSeconds))
            }
        }
        return results
    }

    static func measure(_ c: Case, pool: ThreadPool, path: KernelPath, minimumSeconds: Double) throws -> Result {
        let byteCount = QuantizedMatrix.byteCount(format: c.format, rowCount: c.outputCount, columnCount: c.inputCount)
        let blocks = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        defer { blocks.deallocate() }
        var random = SplitMix64(seed: 0x5EED)
        let bytes = blocks.bindMemory(to: UInt8.self, capacity: byteCount)
        for i in 0..<byteCount { bytes[i] = UInt8(truncatingIfNeeded: random.next()) }
        // Plausible fp16 scales (d = 2^-7, m = -2^-4) instead of random bit patterns (NaN, inf).
        let blockCount = byteCount / c.format.blockByteCount
        for block in 0..<blockCount {
            let start = block * c.format.blockByteCount
            bytes[start] = 0x00
            bytes[start + 1] = 0x20
            if c.format == .q4_1 {
                bytes[start + 2] = 0x00
                bytes[start + 3] = 0xAC
            }
        }
        let weights = try QuantizedMatrix(format: c.format, rowCount: c.outputCount, columnCount: c.inputCount,
                                          blocks: blocks, byteCount: byteCount)
        var input = [Float](repeating: 0, count: c.batchRowCount * c.inputCount)
        for i in input.indices { input[i] = Float(Int64(bitPattern: random.next() % 2001) - 1000) / 1000 }
        let activations = try QuantizedActivations(rowCapacity: c.batchRowCount, columnCount: c.inputCount)
        try input.withUnsafeBufferPointer {
            try quantizeActivations(output: activations, input: $0, rowCount: c.batchRowCount, path: path)
        }
        var output = [Float](repeating: 0, count: c.batchRowCount * c.outputCount)
        let clock = ContinuousClock()
        let elapsed = try output.withUnsafeMutableBufferPointer { out -> (Int, Double) in
            for _ in 0..<3 { try quantizedMatmul(output: out, input: activations, weights: weights, pool: pool, path: path) }
            var calls = 0
            let start = clock.now
            var seconds = 0.0
            repeat {
                try quantizedMatmul(output: out, input: activations, weights: weights, pool: pool, path: path)
                calls += 1
                let duration = clock.now - start
                seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
            } while seconds < minimumSeconds
            return (calls, seconds)
        }
        let perCall = elapsed.1 / Double(elapsed.0)
        let flops = 2.0 * Double(c.batchRowCount) * Double(c.outputCount) * Double(c.inputCount)
        return Result(benchmarkCase: c, threadCount: pool.threadCount,
                      path: path == .automatic ? KernelPath.best(for: .quantized) : path,
                      secondsPerCall: perCall, gigaflopsPerSecond: flops / perCall / 1e9,
                      weightGigabytesPerSecond: Double(byteCount) / perCall / 1e9)
    }
}

/// A tiny deterministic generator for synthetic benchmark data (reproducible across runs).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
