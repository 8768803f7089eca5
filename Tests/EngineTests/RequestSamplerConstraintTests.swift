import Foundation
import StructuredOutput
import Testing
@testable import Engine

/// `RequestSampler` under a `TokenConstraint`: whatever the logits and temperature, every token is one
/// the automaton allows, the end token comes only where the JSON is complete, and the text parses.
@Suite struct RequestSamplerConstraintTests {
    static let spellings: [String?] = [nil, "{", "}", "\"", "ok", "\":", " ", "true", "false", "1", "0", ",", "\"n\":", "x", "]", "[", ":", "n"]

    static func constraint() throws -> TokenConstraint {
        let schema = try JSONDecoder().decode(JSONValue.self, from: Data("""
        {"type": "object", "properties": {"ok": {"type": "boolean"}, "n": {"type": "integer", "minimum": 0, "maximum": 10}},
         "required": ["ok", "n"], "additionalProperties": false}
        """.utf8))
        let vocabulary = TokenVocabulary(tokenBytes: spellings.map { $0.map { Array($0.utf8) } }, endTokenIds: [0])
        return TokenConstraint(grammar: try JSONSchemaCompiler.compile(schema), vocabulary: vocabulary)
    }

    @Test func everyTokenIsAllowedAndTheTextParses() throws {
        let constraint = try Self.constraint()
        var completed = 0
        for (run, temperature) in [Float(0), 0.7, 1.5, 2].enumerated() {
            for seed in 0 ..< 25 {
                var sampler = RequestSampler(parameters: SamplingParameters(temperature: temperature, seed: UInt64(seed)),
                                             promptTokenIds: [], logprobCount: nil, seed: 1, constraint: constraint)
                var text: [UInt8] = []
                var ended = false
                for step in 0 ..< 40 {
                    let before = try #require(sampler.grammarState)
                    // Random logits that favour the end token and the letter x, which the schema never allows.
                    var logits = SamplingMathTests.randomLogits(Self.spellings.count, seed: UInt64(run * 1000 + seed * 40 + step))
                    logits[0] += 3
                    logits[13] += 10
                    let token = RequestSamplerTests.sample(&sampler, logits).tokenId
                    #expect(constraint.mask(for: before).allows(token), "token \(token) was not allowed")
                    if token == 0 {
                        #expect(constraint.isAccepting(before))
                        ended = true
                        break
                    }
                    text += Array(Self.spellings[Int(token)]!.utf8)
                }
                guard ended else { continue }
                completed += 1
                let object = try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any])
                #expect(object["ok"] is Bool)
                #expect((object["n"] as? Int).map { (0 ... 10).contains($0) } == true)
            }
        }
        #expect(completed > 50, "most runs reach the end within 40 tokens")
    }

    @Test func forcedStatesAreReported() throws {
        let constraint = try Self.constraint()
        var sampler = RequestSampler(parameters: .greedy, promptTokenIds: [], logprobCount: nil, seed: 1, constraint: constraint)
        #expect(!sampler.constraintIsForced, "the start allows { and a blank")
        var logits = [Float](repeating: 0, count: Self.spellings.count)
        logits[1] = 5  // {
        _ = RequestSamplerTests.sample(&sampler, logits)
        logits = [Float](repeating: 0, count: Self.spellings.count)
        logits[12] = 5  // "n":
        _ = RequestSamplerTests.sample(&sampler, logits)
        logits = [Float](repeating: 0, count: Self.spellings.count)
        logits[9] = 5  // 1
        _ = RequestSamplerTests.sample(&sampler, logits)
        #expect(!sampler.constraintIsForced, "after 1: 0, a blank or a comma")
        logits[11] = 9  // ,
        _ = RequestSamplerTests.sample(&sampler, logits)
        logits[3] = 20  // "
        _ = RequestSamplerTests.sample(&sampler, logits)
        #expect(sampler.constraintIsForced, "after {\"n\":1,\" only the key ok remains")
    }
}
