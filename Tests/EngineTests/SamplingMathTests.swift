import Foundation
import Kernels
import Testing
@testable import Engine

/// The sampling functions against naive references (full sorts, Double arithmetic, no cleverness).
@Suite struct SamplingMathTests {
    static func randomLogits(_ count: Int, seed: UInt64, ties: Bool = false) -> [Float] {
        var random = Xoshiro256StarStar(seed: seed)
        return (0 ..< count).map { _ in
            let value = Float(random.nextUniform() * 12 - 6)
            return ties ? value.rounded() : value
        }
    }

    static func naiveSoftmax(_ logits: [Float], temperature: Float) -> [Double] {
        let scaled = logits.map { Double($0) / Double(temperature) }
        let maximum = scaled.max() ?? 0
        let exps = scaled.map { Foundation.exp($0 - maximum) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    static func naiveOrder(_ values: [Float]) -> [Int] {
        values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
    }

    static func naiveKept(_ probabilities: [Float], topK: Int, topP: Float, minP: Float) -> [Int]? {
        let vocab = probabilities.count
        let usesTopK = topK > 0 && topK < vocab
        if !usesTopK && topP >= 1 && minP <= 0 { return nil }
        var kept = naiveOrder(probabilities)
        if usesTopK { kept = Array(kept.prefix(topK)) }
        if topP < 1 {
            let mass = usesTopK ? kept.reduce(0.0) { $0 + Double(probabilities[$1]) } : probabilities.reduce(0.0) { $0 + Double($1) }
            var cumulative = 0.0
            var cut = kept.count
            for (rank, index) in kept.enumerated() {
                cumulative += Double(probabilities[index])
                if cumulative >= Double(topP) * mass { cut = rank + 1; break }
            }
            kept = Array(kept.prefix(cut))
        }
        if minP > 0 {
            let top = kept.map { probabilities[$0] }.max() ?? 0
            kept = kept.filter { probabilities[$0] >= minP * top }
        }
        return kept.sorted()
    }

    @Test func argmaxTakesTheFirstOfEqualMaxima() {
        [1, 5, 2, 5].withUnsafeBufferPointer { #expect(argmax($0) == 1) }
        [-3, -1, -2].withUnsafeBufferPointer { #expect(argmax($0) == 1) }
        [Float.nan, 0.5, 0.7].withUnsafeBufferPointer { #expect(argmax($0) == 2) }
        let logits = Self.randomLogits(1000, seed: 3)
        logits.withUnsafeBufferPointer { #expect(argmax($0) == Self.naiveOrder(logits)[0]) }
    }

    @Test func softmaxAndLogSumExpMatchNaive() {
        let logits = Self.randomLogits(500, seed: 5).map { $0 * 10 } // wide range: needs the max shift
        for temperature: Float in [0.3, 1, 2.5] {
            var output = [Float](repeating: 0, count: logits.count)
            output.withUnsafeMutableBufferPointer { out in
                logits.withUnsafeBufferPointer { SamplingMath.softmax(out, logits: $0, temperature: temperature) }
            }
            let reference = Self.naiveSoftmax(logits, temperature: temperature)
            for index in logits.indices { #expect(abs(Double(output[index]) - reference[index]) < 1e-6) }
        }
        let maximum = Double(logits.max()!)
        let reference = maximum + Foundation.log(logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - maximum) })
        logits.withUnsafeBufferPointer { #expect(abs(Double(SamplingMath.logSumExp($0)) - reference) < 1e-4) }
    }

    @Test func topIndicesMatchAFullSort() {
        for seed: UInt64 in 1 ... 6 {
            let values = Self.randomLogits(300, seed: seed, ties: seed % 2 == 0)
            for count in [0, 1, 7, 64, 300, 400] {
                let fast = values.withUnsafeBufferPointer { SamplingMath.topIndices($0, count: count) }
                #expect(fast == Array(Self.naiveOrder(values).prefix(count)), "seed \(seed), count \(count)")
            }
        }
    }

    @Test func keptTokensMatchNaiveMasks() {
        let settings: [(topK: Int, topP: Float, minP: Float)] = [
            (0, 1, 0), (1, 1, 0), (5, 1, 0), (40, 1, 0), (0, 0.5, 0), (0, 0.9, 0), (0, 0.999, 0), (10, 0.8, 0),
            (0, 1, 0.1), (0, 1, 0.5), (20, 0.9, 0.05), (0, 0.95, 0.2), (200, 0.7, 0),
        ]
        for seed: UInt64 in 10 ..< 16 {
            let logits = Self.randomLogits(2_000, seed: seed, ties: seed == 15)
            for temperature: Float in [0.5, 1, 3] {
                var probabilities = [Float](repeating: 0, count: logits.count)
                probabilities.withUnsafeMutableBufferPointer { out in
                    logits.withUnsafeBufferPointer { SamplingMath.softmax(out, logits: $0, temperature: temperature) }
                }
                for setting in settings {
                    let fast = probabilities.withUnsafeBufferPointer {
                        SamplingMath.keptTokens(probabilities: $0, topK: setting.topK, topP: setting.topP, minP: setting.minP)
                    }
                    let naive = Self.naiveKept(probabilities, topK: setting.topK, topP: setting.topP, minP: setting.minP)
                    #expect(fast == naive, "seed \(seed), T \(temperature), \(setting)")
                    if let fast, setting.topK > 0 { #expect(fast.count <= setting.topK) }
                    if let fast { #expect(!fast.isEmpty) }
                }
            }
        }
    }

    @Test func drawWalksKeptTokensInIdOrder() {
        let probabilities: [Float] = [0.1, 0.0, 0.2, 0.3, 0.4]
        func draw(_ kept: [Int]?, _ uniform: Double) -> Int {
            probabilities.withUnsafeBufferPointer { SamplingMath.draw(probabilities: $0, kept: kept, uniform: uniform) }
        }
        #expect(draw(nil, 0) == 0)
        #expect(draw(nil, 0.0999) == 0)
        #expect(draw(nil, 0.1001) == 2, "a zero-probability token is never drawn")
        #expect(draw(nil, 0.35) == 3)
        #expect(draw(nil, 0.9999) == 4)
        #expect(draw([3, 4], 0) == 3)
        #expect(draw([3, 4], 3.0 / 7 + 1e-6) == 4, "the kept mass is renormalised")
        #expect(draw([2], 0.99) == 2)
        // Against a naive walk on random inputs.
        var random = Xoshiro256StarStar(seed: 99)
        let logits = Self.randomLogits(300, seed: 4)
        let reference = Self.naiveSoftmax(logits, temperature: 1).map { Float($0) }
        let kept = Self.naiveKept(reference, topK: 0, topP: 0.9, minP: 0)!
        for _ in 0 ..< 200 {
            let uniform = random.nextUniform()
            let total = kept.reduce(0.0) { $0 + Double(reference[$1]) }
            var cumulative = 0.0
            var expected = kept.last!
            for index in kept {
                cumulative += Double(reference[index])
                if cumulative > uniform * total { expected = index; break }
            }
            let fast = reference.withUnsafeBufferPointer { SamplingMath.draw(probabilities: $0, kept: kept, uniform: uniform) }
            #expect(fast == expected)
        }
    }

    @Test func penaltiesMatchNaive() {
        let logits = Self.randomLogits(100, seed: 21)
        let counts: [Int32: Int] = [3: 1, 7: 4, 50: 2, 500: 1] // 500 is out of range: ignored
        let seen: Set<Int32> = [1, 3, 7, 9, -4]
        var fast = logits
        fast.withUnsafeMutableBufferPointer {
            SamplingMath.applyPenalties($0, outputCounts: counts, seenTokens: seen, presence: 0.5, frequency: 0.25, repetition: 1.3)
        }
        for index in logits.indices {
            var expected = logits[index]
            if seen.contains(Int32(index)) { expected = expected > 0 ? expected / 1.3 : expected * 1.3 }
            let count = counts[Int32(index)] ?? 0
            expected -= 0.25 * Float(count) + (count > 0 ? 0.5 : 0)
            #expect(abs(fast[index] - expected) < 1e-6, "token \(index)")
        }
    }

    @Test func nonFiniteCountFindsNaNAndInfinitiesAnywhere() {
        var logits = Self.randomLogits(1_000, seed: 7)
        #expect(logits.withUnsafeBufferPointer { SamplingMath.nonFiniteCount($0) } == 0)
        logits[0] = .nan
        logits[500] = .infinity
        logits[999] = -.infinity
        #expect(logits.withUnsafeBufferPointer { SamplingMath.nonFiniteCount($0) } == 3)
        #expect(logits.withUnsafeBufferPointer { SamplingMath.nonFiniteCount($0) } == logits.filter { !$0.isFinite }.count)
        #expect([Float.greatestFiniteMagnitude, -.greatestFiniteMagnitude].withUnsafeBufferPointer { SamplingMath.nonFiniteCount($0) } == 0)
    }
}
