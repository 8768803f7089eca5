import Foundation
import Testing
@testable import OpenAIAPI

/// Request bodies through `JSONCoding.decode`: every accepted form of `prompt` and `stop`, and every
/// decoding failure turned into a 400 that names the offending field.
@Suite struct RequestDecodingTests {
    func completion(_ json: String) throws(APIError) -> CompletionRequest {
        try JSONCoding.decode(CompletionRequest.self, from: Data(json.utf8))
    }

    func chat(_ json: String) throws(APIError) -> ChatCompletionRequest {
        try JSONCoding.decode(ChatCompletionRequest.self, from: Data(json.utf8))
    }

    /// The field an invalid body is blamed on, or nil when it decodes (or fails as non-JSON).
    func blamedField<T: Decodable>(_ type: T.Type, _ json: String) -> String? {
        do {
            _ = try JSONCoding.decode(T.self, from: Data(json.utf8))
            return nil
        } catch {
            if case let .invalidField(param, message) = error {
                #expect(message.contains(param), "message '\(message)' should name '\(param)'")
                return param
            }
            return nil
        }
    }

    // MARK: - prompt forms

    @Test func promptAsString() throws {
        #expect(try completion(#"{"prompt": "Hello"}"#).prompt == .text("Hello"))
        #expect(try completion(#"{"prompt": ""}"#).prompt == .text(""))
    }

    @Test func promptAsArrayOfStrings() throws {
        #expect(try completion(#"{"prompt": ["a", "b c"]}"#).prompt == .texts(["a", "b c"]))
    }

    @Test func promptAsTokenIds() throws {
        #expect(try completion(#"{"prompt": [1, 2, 300]}"#).prompt == .tokens([1, 2, 300]))
    }

    @Test func promptAsArrayOfTokenIdArrays() throws {
        #expect(try completion(#"{"prompt": [[1, 2], [3]]}"#).prompt == .tokenBatches([[1, 2], [3]]))
    }

    @Test func emptyPromptArrayDecodesAndIsLeftToValidation() throws {
        // The handler rejects an empty list with a 400 naming 'prompt'; decoding accepts it.
        let prompt = try completion(#"{"prompt": []}"#).prompt
        #expect(prompt == .texts([]) || prompt == .tokens([]))
    }

    @Test func promptOfAnyOtherShapeIsBlamedOnPrompt() {
        for bad in [#"5"#, #"true"#, #"{"a": 1}"#, #"[1, "a"]"#, #"[[1, "a"]]"#, #"[1.5]"#, #"[["a"]]"#] {
            #expect(blamedField(CompletionRequest.self, #"{"prompt": \#(bad)}"#) == "prompt", "prompt \(bad)")
        }
    }

    @Test func missingPromptIsRequired() {
        #expect(throws: APIError.invalidField(param: "prompt", message: "'prompt' is required.")) {
            try completion(#"{"model": "m", "max_tokens": 5}"#)
        }
    }

    // MARK: - other fields

    @Test func everyFieldDecodesUnderItsOpenAIName() throws {
        let r = try completion("""
            {"model": "m", "prompt": "p", "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 40,
             "min_p": 0.05, "n": 2, "stop": ["a", "b"], "seed": 42, "stream": true,
             "stream_options": {"include_usage": true}, "logprobs": 3, "echo": true, "presence_penalty": 0.1,
             "frequency_penalty": 0.2, "repetition_penalty": 1.1, "user": "u", "ignore_eos": true,
             "decoding": "hamburger", "hamburger_confidence": 0.8}
            """)
        #expect(r.model == "m")
        #expect(r.maxTokens == 7)
        #expect(r.temperature == 0.5)
        #expect(r.topP == 0.9)
        #expect(r.topK == 40)
        #expect(r.minP == 0.05)
        #expect(r.n == 2)
        #expect(r.stop == .many(["a", "b"]))
        #expect(r.seed == 42)
        #expect(r.stream == true)
        #expect(r.streamOptions?.includeUsage == true)
        #expect(r.logprobs == 3)
        #expect(r.echo == true)
        #expect(r.presencePenalty == 0.1)
        #expect(r.frequencyPenalty == 0.2)
        #expect(r.repetitionPenalty == 1.1)
        #expect(r.user == "u")
        #expect(r.ignoreEos == true)
        #expect(r.decoding == "hamburger")
        #expect(r.hamburgerConfidence == 0.8)
    }

    @Test func nullOptionalFieldsMeanAbsent() throws {
        let r = try completion(#"{"prompt": "p", "max_tokens": null, "temperature": null, "stop": null}"#)
        #expect(r.maxTokens == nil)
        #expect(r.temperature == nil)
        #expect(r.stop == nil)
    }

    @Test func stopAsStringOrList() throws {
        #expect(try completion(#"{"prompt": "p", "stop": "\n"}"#).stop == .one("\n"))
        #expect(try completion(#"{"prompt": "p", "stop": ["x", "y"]}"#).stop?.strings == ["x", "y"])
        #expect(blamedField(CompletionRequest.self, #"{"prompt": "p", "stop": 3}"#) == "stop")
        #expect(blamedField(CompletionRequest.self, #"{"prompt": "p", "stop": [1]}"#) == "stop")
    }

    @Test func wrongTypesAreBlamedOnTheirField() {
        let cases: [(String, String)] = [
            (#""max_tokens": "5""#, "max_tokens"),
            (#""max_tokens": 1.5"#, "max_tokens"),
            (#""logprobs": 2.5"#, "logprobs"),
            (#""temperature": "hot""#, "temperature"),
            (#""top_p": true"#, "top_p"),
            (#""top_k": 2.5"#, "top_k"),
            (#""n": [1]"#, "n"),
            (#""seed": "x""#, "seed"),
            (#""stream": "yes""#, "stream"),
            (#""logprobs": true"#, "logprobs"),
            (#""echo": 1"#, "echo"),
            (#""model": 3"#, "model"),
            (#""stream_options": {"include_usage": "yes"}"#, "stream_options.include_usage"),
            (#""stream_options": 1"#, "stream_options"),
        ]
        for (field, param) in cases {
            #expect(blamedField(CompletionRequest.self, #"{"prompt": "p", \#(field)}"#) == param, "\(field)")
        }
    }

    @Test func numbersThatDoNotFitAnIntegerFieldAreBlamedOnIt() {
        // Foundation reports these as "not valid JSON" without a coding path; the 400 must still name the field.
        #expect(throws: APIError.invalidField(param: "max_tokens", message: "'max_tokens' must be an integer within range, got 1.5.")) {
            try completion(#"{"prompt": "p", "temperature": 0.5, "max_tokens": 1.5}"#)
        }
        #expect(blamedField(CompletionRequest.self, #"{"prompt": "p", "seed": 1e30}"#) == "seed")
        #expect(blamedField(CompletionRequest.self, #"{"prompt": "p", "n": 99999999999999999999}"#) == "n")
        #expect(blamedField(ChatCompletionRequest.self, #"{"messages": [], "top_logprobs": 0.5}"#) == "top_logprobs")
        // Large numbers in Double fields are fine (range checks come later).
        #expect(throws: Never.self) { try completion(#"{"prompt": "p", "temperature": 1e30}"#) }
    }

    @Test func notJSONIsInvalidJSON() {
        for body in ["", "hello", #"{"prompt": "#, "{'prompt': 'x'}"] {
            do {
                _ = try completion(body)
                Issue.record("'\(body)' decoded")
            } catch {
                guard case .invalidJSON = error else { Issue.record("'\(body)' gave \(error)"); continue }
                #expect(error.status == 400)
                #expect(error.code == "invalid_value")
            }
        }
    }

    @Test func aJSONValueThatIsNotAnObjectIsBlamedOnTheBody() {
        #expect(blamedField(CompletionRequest.self, "[1, 2]") == "body")
        #expect(blamedField(CompletionRequest.self, #""text""#) == "body")
    }

    // MARK: - chat

    @Test func chatMessagesDecode() throws {
        let r = try chat("""
            {"model": "m", "messages": [{"role": "system", "content": "Be brief."},
             {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]},
             {"role": "assistant", "content": null}],
             "max_completion_tokens": 9, "logprobs": true, "top_logprobs": 2}
            """)
        #expect(r.messages == [.init(role: "system", content: "Be brief."), .init(role: "user", content: "Hi there"),
                               .init(role: "assistant", content: "")])
        #expect(r.maxCompletionTokens == 9)
        #expect(r.samplingFields.maxTokens == 9)
        #expect(r.logprobs == true)
        #expect(r.topLogprobs == 2)
    }

    @Test func chatImagePartsAreRefusedNotDropped() {
        let body = #"{"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image_url"}]}]}"#
        #expect(blamedField(ChatCompletionRequest.self, body) == "messages[1].content")
    }

    @Test func chatMaxCompletionTokensWinsOverMaxTokens() throws {
        let r = try chat(#"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 3, "max_completion_tokens": 5}"#)
        #expect(r.samplingFields.maxTokens == 5)
        let legacy = try chat(#"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 3}"#)
        #expect(legacy.samplingFields.maxTokens == 3)
    }

    @Test func missingMessagesIsRequired() {
        #expect(throws: APIError.invalidField(param: "messages", message: "'messages' is required.")) {
            try chat(#"{"model": "m"}"#)
        }
    }

    @Test func chatFieldErrorsNameTheNestedField() {
        #expect(blamedField(ChatCompletionRequest.self, #"{"messages": "hi"}"#) == "messages")
        #expect(blamedField(ChatCompletionRequest.self, #"{"messages": [{"content": "hi"}]}"#) == "messages[0].role")
        #expect(blamedField(ChatCompletionRequest.self, #"{"messages": [{"role": "user", "content": "a"}, {"role": "user"}]}"#)
                == "messages[1].content")
        #expect(blamedField(ChatCompletionRequest.self, #"{"messages": [{"role": 1, "content": "a"}]}"#) == "messages[0].role")
        #expect(blamedField(ChatCompletionRequest.self, #"{"messages": [{"role": "user", "content": 5}]}"#) == "messages[0].content")
        #expect(blamedField(ChatCompletionRequest.self, #"{"messages": [], "logprobs": 2}"#) == "logprobs")
    }

    @Test func fieldPathSpellsNestedKeysAndIndexes() {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int?
            init(_ s: String) { stringValue = s; intValue = nil }
            init(_ i: Int) { stringValue = "Index \(i)"; intValue = i }
            init?(stringValue: String) { self.init(stringValue) }
            init?(intValue: Int) { self.init(intValue) }
        }
        #expect(JSONCoding.fieldPath([]) == "body")
        #expect(JSONCoding.fieldPath([Key("messages"), Key(2), Key("content")]) == "messages[2].content")
        #expect(JSONCoding.fieldPath([Key("prompt"), Key(0), Key(3)]) == "prompt[0][3]")
    }
}
