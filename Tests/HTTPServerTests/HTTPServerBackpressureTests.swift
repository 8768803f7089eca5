import Foundation
import Testing
@testable import HTTPServer

/// A slow reader must never make the server buffer without bound: writers are told to slow down,
/// can wait, and a connection that stays clogged is closed.
@Suite struct HTTPServerBackpressureTests {
    static func configuration(maxOutput: Int = 4 << 20) -> HTTPServerConfiguration {
        var configuration = HTTPServerConfiguration()
        configuration.outputHighWaterBytes = 64 * 1024
        configuration.outputLowWaterBytes = 16 * 1024
        configuration.maxOutputBufferBytes = maxOutput
        return configuration
    }

    @Test func slowReaderStallsTheWriterUntilItReads() throws {
        let stalled = Locked(false), resumed = Locked(false), written = Locked(0)
        let clientMayRead = DispatchSemaphore(value: 0), writable = DispatchSemaphore(value: 0)
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { _, responder in
            responder.startStream()
            let chunk = Data(repeating: 0x61, count: 16 * 1024)
            for _ in 0..<4000 {  // at most 64 MiB
                written.withLock { $0 += chunk.count }
                if !responder.write(chunk) && !responder.waitUntilWritable(timeout: .milliseconds(100)) {
                    stalled.withLock { $0 = true }
                    break
                }
            }
            responder.onWritable { writable.signal() }
            clientMayRead.signal()
            resumed.withLock { $0 = responder.waitUntilWritable(timeout: .seconds(10)) }
            written.withLock { $0 += 5 }
            responder.write(Data("tail!".utf8))
            responder.finish()
        }
        try withServer(Self.configuration(), handler: handler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port, receiveBufferBytes: 4096)
            try client.send("GET /flood HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(clientMayRead.wait(timeout: .now() + 20) == .success)
            #expect(stalled.current)  // the writer was held back while nobody read
            let response = try client.readResponse()
            #expect(resumed.current)  // and let go once the client read
            #expect(writable.wait(timeout: .now() + 5) == .success)
            #expect(response.body.count == written.current)
            #expect(response.body.suffix(5) == Data("tail!".utf8))
        }
    }

    @Test func writerIgnoringBackpressureGetsTheConnectionClosed() throws {
        let closedSeen = DispatchSemaphore(value: 0)
        let writerDone = DispatchSemaphore(value: 0)
        let endedClosed = Locked(false)
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { _, responder in
            responder.onClose { closedSeen.signal() }
            responder.startStream()
            let chunk = Data(repeating: 0x62, count: 64 * 1024)
            for _ in 0..<2000 where !responder.isClosed { responder.write(chunk) }
            endedClosed.withLock { $0 = responder.isClosed }
            writerDone.signal()
        }
        try withServer(Self.configuration(maxOutput: 512 * 1024), handler: handler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port, receiveBufferBytes: 4096)
            try client.send("GET /flood HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(closedSeen.wait(timeout: .now() + 20) == .success)
            // onClose runs on another queue: wait for the writer's loop to see the close too.
            #expect(writerDone.wait(timeout: .now() + 20) == .success)
            #expect(endedClosed.current)
            #expect(eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func bufferFullPastTheStallTimeoutClosesTheConnection() throws {
        var configuration = Self.configuration()
        configuration.timeouts.writeStallTimeout = .milliseconds(300)
        let closedSeen = DispatchSemaphore(value: 0)
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { _, responder in
            responder.onClose { closedSeen.signal() }
            responder.startStream()
            let chunk = Data(repeating: 0x63, count: 16 * 1024)
            for _ in 0..<4000 {
                if !responder.write(chunk) && !responder.waitUntilWritable(timeout: .milliseconds(100)) { break }
            }
            // Above high water now; wait politely (never writing more) until the server gives up.
            _ = responder.waitUntilWritable(timeout: .seconds(10))
        }
        try withServer(configuration, handler: handler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port, receiveBufferBytes: 4096)
            try client.send("GET /flood HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(closedSeen.wait(timeout: .now() + 20) == .success)
            _ = client
        }
    }
}
