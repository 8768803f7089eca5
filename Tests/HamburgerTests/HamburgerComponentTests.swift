import Foundation
import Kernels
import Llama
import Testing
@testable import Hamburger

/// The grafted modules on tiny shapes, against naive references: embedder, stop head, and the micro
/// decoder's per-sequence caches (a sequence's outputs do not depend on who shares its micro batch).
struct HamburgerComponentTests {
    /// Deterministic pseudo-random values in [-scale, scale].
    static func values(_ count: Int, seed: Int, scale: Float = 0.5) -> [Float] {
        (0..<count).map { i in Float(((i * 7919 + seed * 104_729) % 2001) - 1000) / 1000 * scale }
    }

    /// A 4-token vocabulary of width 4.
    static let table: [[Float]] = (0..<4).map { values(4, seed: 100 + $0) }
    static func embed(_ token: Int32, _ output: UnsafeMutablePointer<Float>) {
        for c in 0..<4 { output[c] = table[Int(token)][c] }
    }

    /// The embedder's matrices, kept for the naive reference.
    struct EmbedderWeights {
        var positions: [Float], wq: [Float], wk: [Float], wv: [Float], wout: [Float]
    }

    static func embedderWeights(zeroOut: Bool) -> EmbedderWeights {
        EmbedderWeights(positions: values(3 * 2, seed: 1), wq: values(16, seed: 2), wk: values(4 * 6, seed: 3), wv: values(4 * 6, seed: 4),
                        wout: zeroOut ? Array(repeating: 0, count: 16) : values(16, seed: 5))
    }

    static func embedder(zeroOut: Bool) -> CompositionalEmbedder {
        let w = embedderWeights(zeroOut: zeroOut)
        return CompositionalEmbedder(width: 4, headCount: 2, headDim: 2, maxSteps: 3, positions: w.positions,
                                     wq: w.wq, wk: w.wk, wv: w.wv, wout: w.wout)
    }

    /// HAMBURGER.md's formula written out directly.
    static func naiveMerge(_ e: EmbedderWeights, _ group: [Int32]) -> [Float] {
        let d = 4, hd = 2
        let rows = group.map { table[Int($0)] }
        if rows.count == 1 { return rows[0] }
        let m = (0..<d).map { c in rows.reduce(0) { $0 + $1[c] } / Float(rows.count) }
        func mul(_ w: [Float], _ x: [Float], out: Int) -> [Float] {
            (0..<out).map { o in (0..<x.count).reduce(0) { $0 + w[o * x.count + $1] * x[$1] } }
        }
        let q = mul(e.wq, m, out: d)
        let kv = rows.enumerated().map { i, r in r + Array(e.positions[i * 2 ..< i * 2 + 2]) }
        let k = kv.map { mul(e.wk, $0, out: d) }, v = kv.map { mul(e.wv, $0, out: d) }
        var a = [Float](repeating: 0, count: d)
        for h in 0..<2 {
            let s = k.map { kr in (0..<hd).reduce(0) { $0 + q[h * hd + $1] * kr[h * hd + $1] } / Float(hd).squareRoot() }
            let mx = s.max()!
            let p = s.map { expf($0 - mx) }, z = p.reduce(0, +)
            for (i, vr) in v.enumerated() { for c in 0..<hd { a[h * hd + c] += p[i] / z * vr[h * hd + c] } }
        }
        let o = mul(e.wout, a, out: d)
        return (0..<d).map { m[$0] + o[$0] }
    }

    @Test func embedderMatchesTheFormula() {
        let e = Self.embedder(zeroOut: false)
        let groups: [[Int32]] = [[2], [0, 3], [1, 1, 2], [3]]
        let merged = e.merge(groups, embed: Self.embed)
        for (group, vector) in zip(groups, merged) {
            let reference = Self.naiveMerge(Self.embedderWeights(zeroOut: false), group)
            #expect(zip(vector, reference).allSatisfy { abs($0 - $1) < 1e-5 }, "group \(group): \(vector) vs \(reference)")
        }
        #expect(merged[0] == Self.table[2], "k = 1 is exactly the embedding")
        let untrained = Self.embedder(zeroOut: true).merge([[0, 3]], embed: Self.embed)[0]
        let mean = (0..<4).map { (Self.table[0][$0] + Self.table[3][$0]) / 2 }
        #expect(zip(untrained, mean).allSatisfy { abs($0 - $1) < 1e-6 }, "W_out = 0 gives the plain mean")
    }

    @Test func stopHeadMatchesTheFormula() {
        let d = 4
        let fc1 = Self.values(16, seed: 6), b1 = Self.values(4, seed: 7), fc2 = Self.values(16, seed: 8)
        let b2 = Self.values(4, seed: 9), fc3 = Self.values(4, seed: 10), b3: Float = 0.25
        let head = StopHead(width: d, fc1: fc1, b1: b1, fc2: fc2, b2: b2, fc3: fc3, b3: b3)
        let hidden = Self.values(3 * d, seed: 11, scale: 2)
        let stops = head.probabilities(hidden, rowCount: 3)
        func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }
        for r in 0..<3 {
            let h = Array(hidden[r * d ..< (r + 1) * d])
            let a = (0..<d).map { o in silu((0..<d).reduce(b1[o]) { $0 + fc1[o * d + $1] * h[$1] }) }
            let b = (0..<d).map { o in silu((0..<d).reduce(b2[o]) { $0 + fc2[o * d + $1] * a[$1] }) }
            let logit = (0..<d).reduce(b3) { $0 + fc3[$1] * b[$1] }
            #expect(abs(stops[r] - 1 / (1 + expf(-logit))) < 1e-6)
        }
    }

    /// Two micro layers of width 4 (2 heads of 2, 1 KV head), F = 2, K = 3.
    static func decoder() -> MicroDecoder {
        func matrix(_ out: Int, _ inner: Int, seed: Int) -> LinearWeight {
            .float(values(out * inner, seed: seed), outputWidth: out, inputWidth: inner)
        }
        let layers = (0..<2).map { l in
            LlamaLayerWeights(attentionNorm: Array(repeating: 1, count: 4), query: matrix(4, 4, seed: 20 + l), key: matrix(2, 4, seed: 30 + l),
                              value: matrix(2, 4, seed: 40 + l), output: matrix(4, 4, seed: 50 + l), ffnNorm: Array(repeating: 1, count: 4),
                              gate: matrix(6, 4, seed: 60 + l), up: matrix(6, 4, seed: 70 + l), down: matrix(4, 6, seed: 80 + l))
        }
        let shape = DecoderLayerShape(hiddenSize: 4, headCount: 2, kvHeadCount: 1, headDim: 2, intermediateSize: 6, rmsEpsilon: 1e-5)
        return MicroDecoder(layers: layers, outputNorm: Array(repeating: 1, count: 4), shape: shape, ropeTheta: 10000)
    }

    @Test func microStepsDoNotDependOnTheirBatch() throws {
        let decoder = Self.decoder()
        let prefix = Self.values(3 * 2 * 4, seed: 90)
        let tokens = (0..<3).map { s in (0..<2).map { Self.values(4, seed: 200 + 10 * s + $0) } }
        // All three sequences together, the second closing after its first step.
        let pool = try ThreadPool(threadCount: 2)
        let together = MicroStepBatch(decoder: decoder, prefix: prefix, featureCount: 2, sequenceCount: 3, maxSteps: 3, pool: pool)
        let first = together.step(sequences: [0, 1, 2], embeddings: tokens.flatMap { $0[0] })
        let second = together.step(sequences: [0, 2], embeddings: tokens[0][1] + tokens[2][1])
        #expect(together.entryCounts == [4, 3, 4])
        for s in 0..<3 {
            let alone = MicroStepBatch(decoder: decoder, prefix: Array(prefix[s * 8 ..< (s + 1) * 8]), featureCount: 2, sequenceCount: 1,
                                       maxSteps: 3, pool: pool)
            let a1 = alone.step(sequences: [0], embeddings: tokens[s][0])
            #expect(zip(a1, first[s * 4 ..< (s + 1) * 4]).allSatisfy { abs($0 - $1) < 1e-5 }, "sequence \(s), step 1")
            if s != 1 {
                let a2 = alone.step(sequences: [0], embeddings: tokens[s][1])
                let row = s == 0 ? 0 : 1
                #expect(zip(a2, second[row * 4 ..< (row + 1) * 4]).allSatisfy { abs($0 - $1) < 1e-5 }, "sequence \(s), step 2")
                #expect(a2 != a1, "the second step sees the first")
            }
        }
    }
}
