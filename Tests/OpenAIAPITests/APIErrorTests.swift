import Engine
import Foundation
import Testing
@testable import OpenAIAPI

/// `APIError`: the status, type and code of every case, and the OpenAI envelope on the wire.
@Suite struct APIErrorTests {
    /// The envelope as a client parses it.
    func wire(_ error: APIError) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: JSONCoding.encode(error.envelope))
        let top = try #require(object as? [String: Any])
        #expect(top.keys.sorted() == ["error"])
        return try #require(top["error"] as? [String: Any])
    }

    @Test func statusesFollowOpenAI() {
        let cases: [(APIError, Int, String)] = [
            (.invalidField(param: "n", message: "m"), 400, "invalid_request_error"),
            (.invalidJSON("x"), 400, "invalid_request_error"),
            (.contextLengthExceeded(maxContext: 10, requested: 12, promptTokens: 8, maxTokens: 4), 400, "invalid_request_error"),
            (.unauthorized, 401, "authentication_error"),
            (.modelNotFound("gpt-4"), 404, "invalid_request_error"),
            (.routeNotFound(method: "GET", path: "/nope"), 404, "invalid_request_error"),
            (.methodNotAllowed(method: "GET", path: "/v1/completions"), 405, "invalid_request_error"),
            (.overloaded(retryAfterSeconds: 1), 503, "server_error"),
            (.unavailable("draining"), 503, "server_error"),
            (.internalError("boom"), 500, "server_error"),
        ]
        for (error, status, type) in cases {
            #expect(error.status == status, "\(error)")
            #expect(error.type == type, "\(error)")
            #expect(error.code != nil, "\(error)")
            #expect(!error.message.isEmpty, "\(error)")
            #expect(error.description.hasPrefix("\(status) "))
        }
    }

    @Test func envelopeHasTheFourOpenAIFieldsWithNullsPresent() throws {
        let body = try wire(.unauthorized)
        #expect(body.keys.sorted() == ["code", "message", "param", "type"])
        #expect(body["param"] is NSNull)
        #expect(body["type"] as? String == "authentication_error")
        #expect(body["code"] as? String == "invalid_api_key")
        #expect((body["message"] as? String)?.contains("Bearer") == true)
    }

    @Test func invalidFieldNamesTheParam() throws {
        let body = try wire(.invalidField(param: "messages[0].role", message: "'messages[0].role' is required."))
        #expect(body["param"] as? String == "messages[0].role")
        #expect(body["message"] as? String == "'messages[0].role' is required.")
        #expect(body["code"] as? String == "invalid_value")
    }

    @Test func contextLengthMessageIsOpenAIs() throws {
        let error = APIError.contextLengthExceeded(maxContext: 8192, requested: 9000, promptTokens: 8000, maxTokens: 1000)
        #expect(error.message.hasPrefix("This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8000 in the messages, 1000 in the completion)."))
        let body = try wire(error)
        #expect(body["code"] as? String == "context_length_exceeded")
        #expect(body["type"] as? String == "invalid_request_error")
    }

    @Test func modelNotFoundBlamesTheModel() throws {
        let body = try wire(.modelNotFound("gpt-4"))
        #expect(body["param"] as? String == "model")
        #expect(body["code"] as? String == "model_not_found")
        #expect((body["message"] as? String)?.contains("'gpt-4'") == true)
    }

    @Test func overloadSaysWhenToRetry() {
        let error = APIError.overloaded(retryAfterSeconds: 3)
        #expect(error.message.contains("3 seconds"))
        #expect(error.code == "server_overloaded")
    }

    @Test func envelopeRoundTripsThroughCodable() throws {
        let error = APIError.invalidField(param: "top_p", message: "'top_p' must be in (0, 1], got 0.0.")
        let decoded = try JSONDecoder().decode(ErrorEnvelope.self, from: JSONCoding.encode(error.envelope))
        #expect(decoded == error.envelope)
        #expect(decoded.error.param == "top_p")
    }

    @Test func engineRefusalsMapToClientErrors() {
        let map: [(EngineError, Int, String?)] = [
            (.exceedsMaxModelLength(requestId: "r", promptTokens: 100, maxTokens: 50, maxModelLength: 120), 400, "messages"),
            (.exceedsKVCapacity(requestId: "r", entriesNeeded: 9, entryCapacity: 8), 400, "max_tokens"),
            (.invalidSamplingParameter(name: "top_p", value: "0", allowed: "(0, 1]"), 400, "top_p"),
            (.invalidLogprobs(requestId: "r", logprobs: 9, maximum: 5), 400, "logprobs"),
            (.invalidMaxTokens(requestId: "r", maxTokens: 0), 400, "max_tokens"),
            (.emptyPrompt(requestId: "r"), 400, "prompt"),
            (.tokenOutOfRange(requestId: "r", tokenId: 99999, vocabSize: 49152), 400, "prompt"),
            (.decodingModeUnavailable(requestId: "r", mode: "hamburger"), 400, "decoding"),
            (.engineStopped, 503, nil),
            (.duplicateRequestId("r"), 500, nil),
        ]
        for (engineError, status, param) in map {
            let error = APIError(engineError)
            #expect(error.status == status, "\(engineError)")
            #expect(error.param == param, "\(engineError)")
        }
        if case let .contextLengthExceeded(maxContext, requested, _, _) = APIError(map[0].0) {
            #expect(maxContext == 120 && requested == 150)
        } else {
            Issue.record("exceedsMaxModelLength should map to contextLengthExceeded")
        }
    }
}
