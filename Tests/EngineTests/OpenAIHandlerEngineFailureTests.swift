import Foundation
import HTTPServer
import OpenAIAPI
import Testing
@testable import Engine
@testable import Tokenization

/// An engine failure as a client sees it: the real HTTP server and OpenAI handler in process, over an
/// engine whose `FakeForwardModel` puts a NaN in the logits of any sequence whose prompt starts with
/// "2" once it has generated 3 tokens. A byte-level vocabulary (token id = byte) makes the prompt
/// text choose the faulty sequence.
@Suite struct OpenAIHandlerEngineFailureTests {
    static let faultyFirstByte = Int32(UInt8(ascii: "2"))

    static func withServer(_ body: (_ port: Int) throws -> Void) throws {
        let bytes = ByteLevelAlphabet.scalarForByte.map { String(Character($0)) }
        let tokenizer = try Tokenizer(tokens: bytes, merges: [], tokenTypes: [], preTokenizer: .gpt2)
        let model = FakeForwardModel(vocabSize: 256, endOfSequenceTokenIds: [0], poisonsRow: { history in
            history.first?.token == faultyFirstByte && history.count == 9
        })
        let engine = try InferenceEngine(model: model, configuration: EngineConfiguration(kvBlockSize: 4, kvCapacity: .blocks(64)))
        defer { engine.shutdown() }
        let handler = OpenAIHandler(settings: APISettings(servedModelName: "fake"), metrics: APIMetrics())
        handler.attach(ServedModel(engine: engine, tokenizer: tokenizer, chatTemplate: ChatTemplate(format: .chatML(defaultSystemMessage: nil)),
                                   maxModelLength: 256))
        let server = try HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), handler: handler)
        try server.start()
        defer { server.shutdown() }
        try body(server.port)
    }

    /// Sends one request with `Connection: close` and returns everything the server sent.
    static func exchange(port: Int, method: String = "POST", path: String, json: String = "") throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        let request = "\(method) \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(json.utf8.count)\r\n\r\n\(json)"
        let sent = request.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, 0) }
        try #require(sent == request.utf8.count)
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0 ..< count])
        }
        return String(decoding: received, as: UTF8.self)
    }

    static func completion(_ prompt: String, stream: Bool, n: Int = 1) -> String {
        #"{"model": "fake", "prompt": "\#(prompt)", "max_tokens": 12, "ignore_eos": true, "temperature": 0, "n": \#(n), "stream": \#(stream)}"#
    }

    @Test func aStreamThatFailsGetsAnErrorEventThenDoneAndOthersAreServed() throws {
        try Self.withServer { port in
            let failed = try Self.exchange(port: port, path: "/v1/completions", json: Self.completion("2 fails", stream: true, n: 2))
            #expect(failed.hasPrefix("HTTP/1.1 200"))
            let error = try #require(failed.range(of: #"data: {"error":{"#))
            let done = try #require(failed.range(of: "data: [DONE]\n\n"))
            #expect(error.upperBound < done.lowerBound, "the error event comes before [DONE]")
            #expect(failed.contains(#""type":"server_error""#) && failed.contains(#""code":"internal_error""#))
            #expect(failed.contains("non-finite logits"))
            #expect(failed.components(separatedBy: #"data: {"error""#).count == 2, "one error event for the response")
            #expect(failed.contains(#""text":"#), "the tokens before the failure were streamed")
            #expect(!failed.contains(#""finish_reason":"length""#), "no choice reports a normal end")

            let whole = try Self.exchange(port: port, path: "/v1/completions", json: Self.completion("2 fails", stream: false))
            #expect(whole.hasPrefix("HTTP/1.1 500"))
            #expect(whole.contains(#"{"error":{"#) && whole.contains(#""message":"Internal error: request "#))
            #expect(whole.contains(#""type":"server_error""#) && whole.contains("non-finite logits"))

            let healthy = try Self.exchange(port: port, path: "/v1/completions", json: Self.completion("fine", stream: false))
            #expect(healthy.hasPrefix("HTTP/1.1 200"))
            #expect(healthy.contains(#""finish_reason":"length""#))

            let metrics = try Self.exchange(port: port, method: "GET", path: "/metrics")
            // Two sequences of the streamed request (n = 2, the same prompt, both poisoned) and one non-streamed.
            #expect(metrics.contains("hamburger:request_failure_total 3"))
            #expect(metrics.contains("hamburger:num_requests_running 0"))
            #expect(metrics.contains("hamburger:kv_cache_usage_perc 0.0"))
        }
    }
}
