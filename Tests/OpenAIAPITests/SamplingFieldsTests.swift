import Engine
import Foundation
import Testing
@testable import OpenAIAPI

/// `SamplingFields`: every range check rejects with a 400 naming its field, the edges of every range
/// are accepted, and accepted values reach the engine's `SamplingParameters` unchanged.
@Suite struct SamplingFieldsTests {
    /// The param an invalid sampling setup is blamed on, or nil when it is accepted.
    func blamed(_ fields: SamplingFields) -> String? {
        do {
            _ = try fields.sampling(choice: 0)
            return nil
        } catch {
            guard case let .invalidField(param, message) = error else { return "not invalidField: \(error)" }
            #expect(message.contains("'\(param)'"), "message '\(message)' should name '\(param)'")
            #expect(error.status == 400)
            return param
        }
    }

    @Test func everyRangeRejectsOutsideAndAcceptsItsEdges() {
        typealias Setter = (inout SamplingFields, Double) -> Void
        let ranges: [(String, Setter, accepted: [Double], rejected: [Double])] = [
            ("temperature", { $0.temperature = $1 }, [0, 0.7, 2], [-0.01, 2.01, .nan, .infinity]),
            ("top_p", { $0.topP = $1 }, [0.01, 1], [0, -0.5, 1.01, .nan]),
            ("min_p", { $0.minP = $1 }, [0, 0.5, 1], [-0.01, 1.01, .nan]),
            ("presence_penalty", { $0.presencePenalty = $1 }, [-2, 0, 2], [-2.01, 2.01, .infinity]),
            ("frequency_penalty", { $0.frequencyPenalty = $1 }, [-2, 0, 2], [-2.01, 2.01, -.infinity]),
            ("repetition_penalty", { $0.repetitionPenalty = $1 }, [0.01, 1, 2], [0, -1, 2.01, .nan]),
        ]
        for (name, set, accepted, rejected) in ranges {
            for value in accepted {
                var fields = SamplingFields()
                set(&fields, value)
                #expect(blamed(fields) == nil, "\(name) = \(value) should be accepted")
            }
            for value in rejected {
                var fields = SamplingFields()
                set(&fields, value)
                #expect(blamed(fields) == name, "\(name) = \(value) should be rejected")
            }
        }
    }

    @Test func topKAcceptsMinusOneZeroAndPositive() throws {
        for (k, engineK) in [(-1, 0), (0, 0), (1, 1), (50, 50)] {
            #expect(try SamplingFields(topK: k).sampling(choice: 0).topK == engineK)
        }
        #expect(blamed(SamplingFields(topK: -2)) == "top_k")
    }

    @Test func defaultsAreOpenAIDefaults() throws {
        let p = try SamplingFields().sampling(choice: 0)
        #expect(p == SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, presencePenalty: 0, frequencyPenalty: 0,
                                        repetitionPenalty: 1, seed: nil))
    }

    @Test func acceptedValuesReachTheEngine() throws {
        let fields = SamplingFields(temperature: 0.25, topP: 0.5, topK: 7, minP: 0.125, seed: 9, presencePenalty: 0.5,
                                    frequencyPenalty: -0.5, repetitionPenalty: 1.5)
        let p = try fields.sampling(choice: 0)
        #expect(p == SamplingParameters(temperature: 0.25, topK: 7, topP: 0.5, minP: 0.125, presencePenalty: 0.5,
                                        frequencyPenalty: -0.5, repetitionPenalty: 1.5, seed: 9))
    }

    @Test func seedsDifferPerChoiceSoNChoicesVary() throws {
        let fields = SamplingFields(seed: 100)
        #expect(try fields.sampling(choice: 0).seed == 100)
        #expect(try fields.sampling(choice: 1).seed == 101)
        #expect(try fields.sampling(choice: 5).seed == 105)
        // Negative seeds are valid (two's complement), and wrap rather than trap.
        #expect(try SamplingFields(seed: -1).sampling(choice: 0).seed == UInt64.max)
        #expect(try SamplingFields(seed: -1).sampling(choice: 1).seed == 0)
        #expect(try SamplingFields().sampling(choice: 3).seed == nil)
    }

    @Test func choiceCountIsOneToSixteen() throws {
        #expect(try SamplingFields().choiceCount() == 1)
        #expect(try SamplingFields(n: 1).choiceCount() == 1)
        #expect(try SamplingFields(n: 16).choiceCount() == 16)
        for n in [0, -1, 17, 1000] {
            #expect(throws: APIError.invalidField(param: "n", message: "'n' must be between 1 and 16, got \(n).")) {
                try SamplingFields(n: n).choiceCount()
            }
        }
    }

    @Test func atMostFourStopStringsAndEmptyOnesDropped() throws {
        #expect(try SamplingFields().stopStrings() == [])
        #expect(try SamplingFields(stop: .one("\n")).stopStrings() == ["\n"])
        #expect(try SamplingFields(stop: .many(["a", "", "b", "c"])).stopStrings() == ["a", "b", "c"])
        #expect(try SamplingFields(stop: .one("")).stopStrings() == [])
        #expect(throws: APIError.invalidField(param: "stop", message: "'stop' takes at most 4 strings, got 5.")) {
            try SamplingFields(stop: .many(["a", "b", "c", "d", "e"])).stopStrings()
        }
    }

    /// The API passes max_tokens through; the engine judges it (once) and its refusal maps to the field.
    @Test func maxTokensDefaultsAndMustBePositive() throws {
        #expect(SamplingFields().maxTokenCount(default: 16) == 16)
        #expect(SamplingFields(maxTokens: 1).maxTokenCount(default: 16) == 1)
        #expect(SamplingFields(maxTokens: 5000).maxTokenCount(default: 16) == 5000)
        for bad in [0, -3] {
            let request = GenerationRequest(id: "r", promptTokenIds: [1], maxTokens: SamplingFields(maxTokens: bad).maxTokenCount(default: 16))
            let refusal = #expect(throws: EngineError.self) {
                try Scheduler.validate(request, configuration: SchedulerConfiguration(maxModelLength: 64, blockSize: 16, blockCount: 8))
            }
            #expect(refusal.map { APIError($0) } == .invalidField(param: "max_tokens", message: "'max_tokens' must be at least 1, got \(bad)."))
        }
    }

    @Test func decodingModeNamesAndDefaults() throws {
        let hamburgerDefault = DecodingMode.hamburger(confidence: 0.7)
        #expect(try SamplingFields().decodingMode(default: .autoregressive) == .autoregressive)
        #expect(try SamplingFields().decodingMode(default: hamburgerDefault) == hamburgerDefault)
        #expect(try SamplingFields(decoding: "autoregressive").decodingMode(default: hamburgerDefault) == .autoregressive)
        #expect(try SamplingFields(decoding: "hamburger").decodingMode(default: hamburgerDefault) == hamburgerDefault)
        #expect(try SamplingFields(decoding: "hamburger").decodingMode(default: .autoregressive) == .hamburger(confidence: 0.9))
        #expect(try SamplingFields(decoding: "hamburger").decodingMode(default: .autoregressive, adapterConfidence: 0.7)
                == .hamburger(confidence: 0.7))
        #expect(try SamplingFields(decoding: "hamburger", hamburgerConfidence: 0.5).decodingMode(default: .autoregressive)
                == .hamburger(confidence: 0.5))
        // A confidence alone adjusts a HAMburger default and leaves autoregressive alone.
        #expect(try SamplingFields(hamburgerConfidence: 0.5).decodingMode(default: hamburgerDefault) == .hamburger(confidence: 0.5))
        #expect(try SamplingFields(hamburgerConfidence: 0.5).decodingMode(default: .autoregressive) == .autoregressive)
    }

    @Test func minProbabilityComesFromTheRequestTheDefaultOrTheAdapter() throws {
        let hamburgerDefault = DecodingMode.hamburger(confidence: 0.3, minProbability: 0.8)
        // The server default carries both; a request may change either alone.
        #expect(try SamplingFields().decodingMode(default: hamburgerDefault) == hamburgerDefault)
        #expect(try SamplingFields(hamburgerMinProbability: 0.5).decodingMode(default: hamburgerDefault)
                == .hamburger(confidence: 0.3, minProbability: 0.5))
        #expect(try SamplingFields(hamburgerConfidence: 0.6).decodingMode(default: hamburgerDefault)
                == .hamburger(confidence: 0.6, minProbability: 0.8))
        #expect(try SamplingFields(hamburgerMinProbability: 0).decodingMode(default: hamburgerDefault)
                == .hamburger(confidence: 0.3, minProbability: 0))
        // An autoregressive server: an explicit HAMburger request gets the adapter's defaults.
        #expect(try SamplingFields(decoding: "hamburger").decodingMode(default: .autoregressive, adapterConfidence: 0.2, adapterMinProbability: 0.9)
                == .hamburger(confidence: 0.2, minProbability: 0.9))
        #expect(try SamplingFields(decoding: "hamburger", hamburgerMinProbability: 0.4).decodingMode(default: .autoregressive, adapterConfidence: 0.2)
                == .hamburger(confidence: 0.2, minProbability: 0.4))
        for bad in [-0.1, 1, 1.5, Double.nan] {
            #expect(throws: APIError.invalidField(param: "hamburger_min_probability",
                                                  message: "'hamburger_min_probability' must be in [0, 1), got \(bad).")) {
                try SamplingFields(hamburgerMinProbability: bad).decodingMode(default: hamburgerDefault)
            }
        }
    }

    @Test func unknownDecodingAndConfidenceOutOfRangeAreRejected() {
        #expect(throws: APIError.invalidField(param: "decoding", message: "'decoding' must be 'hamburger' or 'autoregressive', got 'greedy'.")) {
            try SamplingFields(decoding: "greedy").decodingMode(default: .autoregressive)
        }
        for bad in [0, -0.1, 1.01, Double.nan] {
            do {
                _ = try SamplingFields(decoding: "hamburger", hamburgerConfidence: bad).decodingMode(default: .autoregressive)
                Issue.record("hamburger_confidence \(bad) accepted")
            } catch {
                guard case let .invalidField(param, _) = error else { Issue.record("\(error)"); continue }
                #expect(param == "hamburger_confidence")
            }
        }
    }

    @Test func completionRequestCarriesItsFields() throws {
        let request = try JSONCoding.decode(CompletionRequest.self, from: Data("""
            {"prompt": "p", "max_tokens": 3, "temperature": 0.5, "top_p": 0.25, "top_k": 4, "min_p": 0.125, "n": 2,
             "stop": "x", "seed": 5, "presence_penalty": 0.75, "frequency_penalty": -0.5, "repetition_penalty": 1.25,
             "ignore_eos": true, "decoding": "autoregressive", "hamburger_confidence": 0.625}
            """.utf8))
        let f = request.samplingFields
        #expect(f.maxTokens == 3 && f.temperature == 0.5 && f.topP == 0.25 && f.topK == 4 && f.minP == 0.125 && f.n == 2)
        #expect(f.stop == .one("x") && f.seed == 5 && f.presencePenalty == 0.75 && f.frequencyPenalty == -0.5)
        #expect(f.repetitionPenalty == 1.25 && f.ignoreEos == true && f.decoding == "autoregressive" && f.hamburgerConfidence == 0.625)
    }
}
