import Foundation
import Testing
import TestSupport
@testable import Engine

/// Prompt logprobs (`echo` + `logprobs` for evaluation clients) on the real model: the logprob of prompt
/// token t reported from the prefill equals the logprob of the same token chosen as the first generated
/// token after prompt[..<t] (forced there by logit_bias, whose logprobs stay those of the raw logits),
/// whether the prompt runs in one chunk or in several, beside other requests.
@Suite(.serialized) struct PromptLogprobsTests {
    @Test func promptLogprobsMatchTheFirstTokenLogprobOfEachPrefix() throws {
        let prompts = try #require(LlamaEngineTests.prompts.first.map { [Array($0.prefix(14))] }, "no model fixture")
        let prompt = prompts[0]
        for maxBatchedTokens in [512, 5] {
            let engine = try LlamaEngineTests.makeEngine(maxBatchedTokens: maxBatchedTokens)
            defer { engine.shutdown() }
            let scored = GenerationRequest(id: "echo", promptTokenIds: prompt, maxTokens: 1, logprobs: 3, promptLogprobs: 3)
            let neighbour = GenerationRequest(id: "other", promptTokenIds: LlamaEngineTests.prompts[1], maxTokens: 4)
            let results = try engine.generate([neighbour, scored])
            let reported = try #require(results[1].promptLogprobs)
            #expect(reported.count == prompt.count - 1, "one per prompt token after the first")
            #expect(results[1].logprobs?.count == 1)
            for t in 1 ..< prompt.count {
                let forced = GenerationRequest(id: "p\(t)", promptTokenIds: Array(prompt[..<t]),
                                               sampling: SamplingParameters(temperature: 0, logitBias: [prompt[t]: 100]),
                                               maxTokens: 1, logprobs: 3)
                let reference = try #require(try engine.generate([forced])[0].logprobs?.first)
                #expect(reference.tokenId == prompt[t])
                #expect(reported[t - 1].tokenId == prompt[t])
                #expect(abs(reported[t - 1].logprob - reference.logprob) < 2e-3, "token \(t): \(reported[t - 1].logprob) vs \(reference.logprob)")
                #expect(reported[t - 1].topAlternatives.map(\.tokenId) == reference.topAlternatives.map(\.tokenId))
                #expect(reported[t - 1].topAlternatives.count == 3)
            }
        }
    }

    @Test func promptLogprobsAreRefusedOutOfRange() throws {
        let engine = try LlamaEngineTests.makeEngine()
        defer { engine.shutdown() }
        #expect(throws: EngineError.self) {
            try engine.validate(GenerationRequest(id: "x", promptTokenIds: [1, 2], maxTokens: 1, promptLogprobs: 21))
        }
    }
}
