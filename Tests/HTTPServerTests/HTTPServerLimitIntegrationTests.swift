import Foundation
import Testing
@testable import HTTPServer

/// Limits, timeouts, draining and setup errors over real loopback sockets.
@Suite struct HTTPServerLimitIntegrationTests {
    func statusAndClose(_ request: String, configuration: HTTPServerConfiguration = HTTPServerConfiguration())
        throws -> (TestHTTPClient.Response, Bool) {
        var result: (TestHTTPClient.Response, Bool)?
        try withServer(configuration, handler: echoHandler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send(request)
            let response = try client.readResponse()
            result = (response, client.isClosedByPeer())
        }
        guard let result else { throw TestHTTPClient.Failure(description: "no result") }
        return result
    }

    @Test func errorStatusesAreAnsweredAndTheConnectionClosed() throws {
        var small = HTTPServerConfiguration()
        small.limits = HTTPParserLimits(maxRequestLineBytes: 100, maxHeaderBytes: 200, maxBodyBytes: 10)
        let cases: [(String, Int)] = [
            ("DELETE / HTTP/1.1\r\nHost: t\r\n\r\n", 405),
            ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n01234567890", 413),
            ("GET /" + String(repeating: "a", count: 200) + " HTTP/1.1\r\nHost: t\r\n\r\n", 431),
            ("GET / HTTP/1.1\r\nHost: t\r\nX: " + String(repeating: "b", count: 300) + "\r\n\r\n", 431),
            ("GET / HTTP/1.1\r\nHost t\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        ]
        for (request, expected) in cases {
            let (response, closed) = try statusAndClose(request, configuration: small)
            #expect(response.status == expected)
            #expect(response.headers["Connection"] == "close")
            #expect(closed)
            if expected == 405 { #expect(response.headers["Allow"] == "GET, HEAD, OPTIONS, POST") }
        }
    }

    @Test func applicationFormatsRejections() throws {
        let seen = Locked<[Int]>([])
        let json: @Sendable (HTTPRequestRejection) -> HTTPResponse = { rejection in
            seen.withLock { $0.append(rejection.status.code) }
            return HTTPResponse(status: rejection.status, headers: ["Content-Type": "application/json"],
                                body: Data("{\"error\":{\"message\":\"\(rejection.reason)\"}}".utf8))
        }
        var configuration = HTTPServerConfiguration()
        configuration.limits.maxBodyBytes = 10
        configuration.maxConnections = 1
        try withServer(configuration, rejectionResponse: json, handler: echoHandler) { server in
            do {
                let first = try TestHTTPClient(host: "127.0.0.1", port: server.port)
                try first.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n")
                let tooLarge = try first.readResponse()
                #expect(tooLarge.status == 413)
                #expect(tooLarge.headers["Content-Type"] == "application/json")
                #expect(tooLarge.headers["Connection"] == "close")
                #expect(String(decoding: tooLarge.body, as: UTF8.self).hasPrefix("{\"error\":{\"message\":"))
            }
            #expect(eventually { server.openConnectionCount == 0 })
            let holder = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try holder.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try holder.readResponse().status == 200)
            let refused = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try refused.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let unavailable = try refused.readResponse()
            #expect(unavailable.status == 503)
            #expect(unavailable.headers["Retry-After"] == "1")
            #expect(unavailable.headers["Content-Type"] == "application/json")
        }
        #expect(seen.current == [413, 503])
    }

    @Test func slowHeadersGet408() throws {
        var configuration = HTTPServerConfiguration()
        configuration.timeouts.headerTimeout = .milliseconds(300)
        let (response, closed) = try statusAndClose("GET / HTTP/1.1\r\nHost: t\r\n", configuration: configuration)
        #expect(response.status == 408)
        #expect(closed)
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        var configuration = HTTPServerConfiguration()
        configuration.timeouts.keepAliveTimeout = .milliseconds(200)
        try withServer(configuration, handler: echoHandler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().status == 200)
            #expect(client.isClosedByPeer())
            #expect(eventually { server.openConnectionCount == 0 })  // closed by the server, not a read timeout
        }
    }

    @Test func drainingClosesIdleAndFinishesBusy() throws {
        let release = DispatchSemaphore(value: 0)
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { request, responder in
            if request.path == "/busy" { _ = release.wait(timeout: .now() + 5) }
            echoHandler(request, responder)
        }
        try withServer(handler: handler) { server in
            let idle = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try idle.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try idle.readResponse().status == 200)
            let busy = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try busy.send("GET /busy HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(eventually { server.openConnectionCount == 2 })
            server.stopAccepting()
            #expect(idle.isClosedByPeer())
            #expect((try? TestHTTPClient(host: "127.0.0.1", port: server.port)) == nil)  // no longer listening
            release.signal()
            let last = try busy.readResponse()
            #expect(last.status == 200)
            #expect(last.headers["Connection"] == "close")
            #expect(server.waitForConnectionsToClose(timeout: .seconds(5)))
            #expect(server.openConnectionCount == 0)
        }
    }

    @Test func bindFailureNamesTheAddress() throws {
        try withServer(handler: echoHandler) { server in
            var configuration = HTTPServerConfiguration()
            configuration.host = "127.0.0.1"
            configuration.port = server.port
            let second = try HTTPServer(configuration: configuration, handler: HTTPClosureHandler(echoHandler))
            do {
                try second.start()
                Issue.record("binding a port in use succeeded")
            } catch let error as HTTPServerError {
                guard case .bindFailed(let address, let code, _) = error else { Issue.record("\(error)"); return }
                #expect(address == "127.0.0.1:\(server.port)")
                #expect(code == EADDRINUSE)
                #expect(error.description.contains("Address already in use"))
            }
        }
    }
}
