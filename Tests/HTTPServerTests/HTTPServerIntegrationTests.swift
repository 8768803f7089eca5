import Foundation
import Testing
@testable import HTTPServer

/// Answers `METHOD path body-bytes remote-host` so tests can see what the server parsed.
let echoHandler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { request, responder in
    let text = "\(request.method) \(request.target) \(request.body.count) \(request.remoteAddress?.host ?? "-")"
    responder.send(HTTPResponse(text: text))
}

@Suite struct HTTPServerIntegrationTests {
    @Test func keepAliveServesTwoRequestsOnOneConnection() throws {
        try withServer(handler: echoHandler) { server in
            #expect(server.port > 0)
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("GET /first HTTP/1.1\r\nHost: t\r\n\r\n")
            let first = try client.readResponse()
            #expect(first.status == 200)
            #expect(String(decoding: first.body, as: UTF8.self) == "GET /first 0 127.0.0.1")
            #expect(first.headers["Date"]?.hasSuffix(" GMT") == true)
            #expect(first.headers["Connection"] == nil)
            try client.send("POST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd")
            let second = try client.readResponse()
            #expect(String(decoding: second.body, as: UTF8.self) == "POST /second 4 127.0.0.1")
            #expect(server.openConnectionCount == 1)
        }
    }

    @Test func ipv6LoopbackAndDualStack() throws {
        try withServer(host: "::1", handler: echoHandler) { server in
            let client = try TestHTTPClient(host: "::1", port: server.port)
            try client.send("GET /v6 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(String(decoding: try client.readResponse().body, as: UTF8.self) == "GET /v6 0 ::1")
        }
        try withServer(host: "::", handler: echoHandler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("GET /v4-on-dual-stack HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(String(decoding: try client.readResponse().body, as: UTF8.self) == "GET /v4-on-dual-stack 0 127.0.0.1")
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        // The first request is answered last in time; its response must still come first.
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { request, responder in
            let delay = request.path == "/slow" ? 0.2 : 0
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { echoHandler(request, responder) }
        }
        try withServer(handler: handler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\nPOST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nxyz\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: t\r\n\r\n")
            let bodies = try (0..<3).map { _ in String(decoding: try client.readResponse().body, as: UTF8.self) }
            #expect(bodies == ["GET /slow 0 127.0.0.1", "POST /b 3 127.0.0.1", "GET /c 0 127.0.0.1"])
        }
    }

    @Test func largestAllowedBodyArrivesWhole() throws {
        var body = Data(repeating: 0x5A, count: 4 * 1024 * 1024)
        for position in stride(from: 0, to: body.count, by: 65_537) { body[position] = UInt8(truncatingIfNeeded: position) }
        let expected = body
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { request, responder in
            responder.send(HTTPResponse(text: "\(request.body.count) \(request.body == expected)"))
        }
        try withServer(handler: handler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n")
            try client.send(body)
            #expect(String(decoding: try client.readResponse().body, as: UTF8.self) == "\(body.count) true")
        }
    }

    @Test func expectContinueGetsInterimResponse() throws {
        try withServer(handler: echoHandler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            #expect(try client.readResponse().status == 100)
            try client.send("hello")
            #expect(String(decoding: try client.readResponse().body, as: UTF8.self) == "POST /upload 5 127.0.0.1")
        }
    }

    @Test func headGetsHeadersOnly() throws {
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { _, responder in
            responder.send(HTTPResponse(text: "twelve bytes"))
        }
        try withServer(handler: handler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try client.readResponse(forHead: true)
            #expect(head.headers["Content-Length"] == "12")
            let get = try client.readResponse()  // parses only if HEAD sent no body bytes
            #expect(String(decoding: get.body, as: UTF8.self) == "twelve bytes")
        }
    }

    @Test func streamedResponseIsChunkedOnTheWire() throws {
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { _, responder in
            responder.startStream(status: .ok, headers: ["Content-Type": "text/event-stream"])
            for piece in ["data: 1\n\n", "data: two\n\n", "", "data: [DONE]\n\n"] { responder.write(Data(piece.utf8)) }
            responder.finish()
        }
        try withServer(handler: handler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.headers["Transfer-Encoding"] == "chunked")
            #expect(response.headers["Content-Length"] == nil)
            #expect(String(decoding: response.rawBody, as: UTF8.self)
                == "9\r\ndata: 1\n\n\r\nb\r\ndata: two\n\n\r\ne\r\ndata: [DONE]\n\n\r\n0\r\n\r\n")
            // The connection stays usable after the stream.
            try client.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
    }

    @Test func http10StreamIsDelimitedByClose() throws {
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { _, responder in
            responder.startStream()
            responder.write(Data("abc".utf8))
            responder.write(Data("def".utf8))
            responder.finish()
        }
        try withServer(handler: handler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("GET / HTTP/1.0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.headers["Transfer-Encoding"] == nil)
            #expect(response.headers["Connection"] == "close")
            #expect(response.body == Data("abcdef".utf8))
        }
    }

    @Test func clientDisconnectMidStreamFiresOnClose() throws {
        let closed = DispatchSemaphore(value: 0)
        let responderBox = Locked<HTTPResponder?>(nil)
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { _, responder in
            // Kept to stream "later", like an engine would; stored before anything reaches the client,
            // so the test never sees the close before the responder is in the box.
            responderBox.withLock { $0 = responder }
            responder.onClose { closed.signal() }
            responder.startStream()
            responder.write(Data("first".utf8))
        }
        try withServer(handler: handler) { server in
            do {
                let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
                try client.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
                _ = try client.readLine()  // the status line: the stream has begun
            }  // the client goes away here
            #expect(closed.wait(timeout: .now() + 5) == .success)
            let responder = try #require(responderBox.current)
            #expect(responder.isClosed)
            #expect(responder.write(Data("late".utf8)) == false)
            #expect(eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func droppedResponderAnswers500() throws {
        try withServer(handler: { _, _ in }) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().status == 500)
        }
    }

    @Test func connectionsOverTheLimitGet503() throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxConnections = 1
        try withServer(configuration, handler: echoHandler) { server in
            let first = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try first.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try first.readResponse().status == 200)  // served, and kept open
            let second = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try second.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let refused = try second.readResponse()
            #expect(refused.status == 503)
            #expect(refused.headers["Connection"] == "close")
            #expect(second.isClosedByPeer())
            try first.send("GET /again HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try first.readResponse().status == 200)
        }
    }

    @Test func gzipRoundTripOverTheWire() throws {
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 200)
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { request, responder in
            responder.send(HTTPResponse(text: request.path == "/small" ? "tiny" : text))
        }
        try withServer(handler: handler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("GET /big HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br, gzip\r\n\r\n")
            let big = try client.readResponse()
            #expect(big.headers["Content-Encoding"] == "gzip")
            #expect(big.headers["Vary"] == "Accept-Encoding")
            #expect(big.body.count < text.utf8.count)
            #expect(gunzip(big.body).map { String(decoding: $0, as: UTF8.self) } == text)
            try client.send("GET /small HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n")
            let small = try client.readResponse()
            #expect(small.headers["Content-Encoding"] == nil)
            #expect(String(decoding: small.body, as: UTF8.self) == "tiny")
            try client.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
            let identity = try client.readResponse()
            #expect(identity.headers["Content-Encoding"] == nil)
            #expect(identity.headers["Vary"] == "Accept-Encoding")
            #expect(String(decoding: identity.body, as: UTF8.self) == text)
        }
    }
}
