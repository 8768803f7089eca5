import Foundation
import Testing
@testable import Engine

@Suite struct RequestSamplerTests {
    static func sample(_ sampler: inout RequestSampler, _ logits: [Float]) -> SampledToken {
        var scratch = SamplingScratch()
        return logits.withUnsafeBufferPointer { sampler.sample(logits: $0, scratch: &scratch) }
    }

    @Test func splitMixMatchesItsPublishedFirstOutput() {
        var mixer = SplitMix64(seed: 0)
        #expect(mixer.next() == 0xE220_A839_7B1D_CDAF)
        var generator = Xoshiro256StarStar(seed: 1)
        for _ in 0 ..< 1000 {
            let uniform = generator.nextUniform()
            #expect(uniform >= 0 && uniform < 1)
        }
    }

    @Test func greedyTakesTheArgmax() {
        var sampler = RequestSampler(parameters: .greedy, promptTokenIds: [], logprobCount: nil, seed: 1)
        #expect(Self.sample(&sampler, [0.1, 3, -2, 2.9]).tokenId == 1)
        #expect(Self.sample(&sampler, [4, 3, 5, 2.9]).tokenId == 2)
    }

    @Test func logitBiasBansAndForcesTokensGreedyOrSampled() throws {
        let logits: [Float] = [0.1, 3, -2, 2.9]
        var banned = RequestSampler(parameters: SamplingParameters(temperature: 0, logitBias: [1: -100]), promptTokenIds: [],
                                    logprobCount: 1, seed: 1)
        let token = Self.sample(&banned, logits)
        #expect(token.tokenId == 3, "the argmax is banned; the runner-up wins")
        let raw = logits.withUnsafeBufferPointer { RequestSampler.logprob(of: 3, logits: $0, alternatives: 0).logprob }
        #expect(token.logprob?.logprob == raw, "logprobs stay those of the raw logits")
        var forced = RequestSampler(parameters: SamplingParameters(temperature: 1.5, seed: 7, logitBias: [2: 100]), promptTokenIds: [],
                                    logprobCount: nil, seed: 1)
        for step in 0 ..< 200 {
            #expect(Self.sample(&forced, SamplingMathTests.randomLogits(64, seed: UInt64(step))).tokenId == 2)
        }
        var sampledBan = RequestSampler(parameters: SamplingParameters(temperature: 2, seed: 3, logitBias: [5: -100]), promptTokenIds: [],
                                        logprobCount: nil, seed: 1)
        let flat = [Float](repeating: 0, count: 8)
        for _ in 0 ..< 500 { #expect(Self.sample(&sampledBan, flat).tokenId != 5) }
        #expect(throws: EngineError.self) { try SamplingParameters(logitBias: [1: 101]).validate() }
    }

    @Test func sameSeedSameTokensDifferentSeedDifferentTokens() {
        let parameters = SamplingParameters(temperature: 1.2, topK: 30, topP: 0.95, minP: 0.01, seed: 1234)
        var first = RequestSampler(parameters: parameters, promptTokenIds: [1, 2], logprobCount: nil, seed: 0)
        var second = RequestSampler(parameters: parameters, promptTokenIds: [1, 2], logprobCount: nil, seed: 999)
        var other = RequestSampler(
            parameters: SamplingParameters(temperature: 1.2, topK: 30, topP: 0.95, minP: 0.01, seed: 4321),
            promptTokenIds: [1, 2], logprobCount: nil, seed: 0)
        var tokens: ([Int32], [Int32], [Int32]) = ([], [], [])
        for step in 0 ..< 64 {
            let logits = SamplingMathTests.randomLogits(200, seed: UInt64(step)).map { $0 / 3 }
            tokens.0.append(Self.sample(&first, logits).tokenId)
            tokens.1.append(Self.sample(&second, logits).tokenId)
            tokens.2.append(Self.sample(&other, logits).tokenId)
        }
        #expect(tokens.0 == tokens.1, "the request's seed wins over the engine's fallback seed")
        #expect(tokens.0 != tokens.2)
    }

    @Test func drawsFollowTheDistribution() {
        let probabilities: [Double] = [0.1, 0.2, 0.3, 0.4]
        let logits = probabilities.map { Float(Foundation.log($0)) }
        var sampler = RequestSampler(parameters: SamplingParameters(temperature: 1, seed: 77), promptTokenIds: [], logprobCount: nil, seed: 0)
        var counts = [0, 0, 0, 0]
        let draws = 20_000
        for _ in 0 ..< draws { counts[Int(Self.sample(&sampler, logits).tokenId)] += 1 }
        for index in 0 ..< 4 { #expect(abs(Double(counts[index]) / Double(draws) - probabilities[index]) < 0.015) }
    }

    @Test func topKOfOneIsGreedy() {
        var sampler = RequestSampler(parameters: SamplingParameters(temperature: 5, topK: 1, seed: 3), promptTokenIds: [], logprobCount: nil, seed: 0)
        for step in 0 ..< 20 {
            let logits = SamplingMathTests.randomLogits(50, seed: UInt64(step))
            #expect(Self.sample(&sampler, logits).tokenId == Int32(SamplingMathTests.naiveOrder(logits)[0]))
        }
    }

    @Test func frequencyPenaltyStopsARepeat() {
        let logits: [Float] = [5, 4.5, 0, 0]
        var plain = RequestSampler(parameters: .greedy, promptTokenIds: [], logprobCount: nil, seed: 0)
        #expect(Self.sample(&plain, logits).tokenId == 0)
        #expect(Self.sample(&plain, logits).tokenId == 0)
        var penalised = RequestSampler(parameters: SamplingParameters(temperature: 0, frequencyPenalty: 1), promptTokenIds: [], logprobCount: nil, seed: 0)
        #expect(Self.sample(&penalised, logits).tokenId == 0)
        #expect(Self.sample(&penalised, logits).tokenId == 1, "5 - 1 < 4.5")
        #expect(penalised.outputCounts == [0: 1, 1: 1])
    }

    @Test func repetitionPenaltyCoversThePrompt() {
        let logits: [Float] = [3, 2.5, 0]
        var sampler = RequestSampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 1.5), promptTokenIds: [0], logprobCount: nil, seed: 0)
        #expect(Self.sample(&sampler, logits).tokenId == 1, "3 / 1.5 = 2 < 2.5")
    }

    @Test func logprobsAreTheRawLogSoftmax() throws {
        let logits: [Float] = [1, 3, 2, 0.5, 3]
        var sampler = RequestSampler(parameters: .greedy, promptTokenIds: [], logprobCount: 3, seed: 0)
        let sampled = Self.sample(&sampler, logits)
        let logprob = try #require(sampled.logprob)
        let normalizer = Foundation.log(logits.reduce(0.0) { $0 + Foundation.exp(Double($1)) })
        #expect(logprob.tokenId == 1)
        #expect(abs(Double(logprob.logprob) - (3 - normalizer)) < 1e-5)
        #expect(logprob.topAlternatives.map(\.tokenId) == [1, 4, 2])
        for alternative in logprob.topAlternatives {
            #expect(abs(Double(alternative.logprob) - (Double(logits[Int(alternative.tokenId)]) - normalizer)) < 1e-5)
        }
        var none = RequestSampler(parameters: .greedy, promptTokenIds: [], logprobCount: nil, seed: 0)
        #expect(Self.sample(&none, logits).logprob == nil)
    }

    @Test func parametersOutOfRangeAreNamed() {
        #expect(throws: EngineError.invalidSamplingParameter(name: "top_p", value: "0.0", allowed: "in (0, 1]")) {
            try SamplingParameters(topP: 0).validate()
        }
        #expect(throws: EngineError.self) { try SamplingParameters(temperature: -1).validate() }
        #expect(throws: EngineError.self) { try SamplingParameters(minP: 1.5).validate() }
        #expect(throws: EngineError.self) { try SamplingParameters(repetitionPenalty: 0).validate() }
        #expect(throws: EngineError.self) { try SamplingParameters(frequencyPenalty: 3).validate() }
        #expect(throws: Never.self) { try SamplingParameters(temperature: 0.7, topK: 40, topP: 0.9, minP: 0.05).validate() }
    }
}
