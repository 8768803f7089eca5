import Foundation
@testable import HTTPServer
#if canImport(Glibc)
import Glibc
#endif

/// A blocking raw-socket HTTP client for the integration tests: it writes bytes as given and parses
/// responses itself, so the tests see exactly what the server put on the wire. Every read has a
/// timeout, so a broken server fails a test instead of hanging it.
final class TestHTTPClient {
    struct Response {
        var status: Int
        var headers: HTTPHeaders
        /// The decoded body (de-chunked).
        var body: Data
        /// The body bytes exactly as framed on the wire.
        var rawBody: Data
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let fd: Int32
    private var buffer = Data()

    init(host: String, port: Int, receiveBufferBytes: Int? = nil, timeoutSeconds: Int = 5) throws {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBufferBytes.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure(description: "connect to \(host):\(port) failed: errno \(code)")
        }
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) throws { try send(Data(text.utf8)) }

    func send(_ data: Data) throws {
        try data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let sent = Glibc.send(fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw Failure(description: "send failed: errno \(errno)") }
                offset += sent
            }
        }
    }

    /// Reads more bytes into the buffer; false at end of stream (or on error/timeout).
    @discardableResult
    func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    /// Reads until the peer closes (or times out); returns everything left, bounded by `maxBytes`.
    func readToEnd(maxBytes: Int = 64 << 20) -> Data {
        while buffer.count < maxBytes && fill() {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// Whether the server has closed the connection (reads EOF without other data).
    func isClosedByPeer() -> Bool {
        readToEnd().isEmpty
    }

    func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = buffer[buffer.startIndex..<newline]
                if line.last == 0x0D { line = line.dropLast() }
                buffer.removeSubrange(buffer.startIndex...newline)
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count < 1 << 20, fill() else { throw Failure(description: "connection ended mid-line") }
        }
    }

    func readExactly(_ count: Int) throws -> Data {
        while buffer.count < count {
            guard fill() else { throw Failure(description: "connection ended with \(buffer.count) of \(count) bytes") }
        }
        let result = Data(buffer.prefix(count))
        buffer.removeFirst(count)
        return result
    }

    /// Reads one response: status line, headers, body (by Content-Length, chunked, or to the end).
    func readResponse(forHead: Bool = false) throws -> Response {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure(description: "bad status line \(statusLine.debugDescription)")
        }
        var headers = HTTPHeaders()
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw Failure(description: "bad header \(line)") }
            headers.add(name: String(line[..<colon]), value: HTTPHeaders.trimmed(line[line.index(after: colon)...]))
        }
        if forHead || status == 100 || status == 204 || status == 304 {
            return Response(status: status, headers: headers, body: Data(), rawBody: Data())
        }
        if let length = headers["Content-Length"].flatMap(Int.init) {
            let body = try readExactly(length)
            return Response(status: status, headers: headers, body: body, rawBody: body)
        }
        if headers["Transfer-Encoding"] == "chunked" {
            var body = Data(), raw = Data()
            while true {
                let sizeLine = try readLine()
                raw += Data((sizeLine + "\r\n").utf8)
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                    throw Failure(description: "bad chunk size \(sizeLine)")
                }
                if size == 0 {
                    while true {
                        let trailer = try readLine()
                        raw += Data((trailer + "\r\n").utf8)
                        if trailer.isEmpty { break }
                    }
                    return Response(status: status, headers: headers, body: body, rawBody: raw)
                }
                let chunk = try readExactly(size + 2)
                raw += chunk
                body += chunk.prefix(size)
            }
        }
        let body = readToEnd()
        return Response(status: status, headers: headers, body: body, rawBody: body)
    }
}

/// A value shared between a handler's thread and the test, behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }

    var current: Value { withLock { $0 } }
}

/// Starts a server on an ephemeral loopback port, runs `body`, and shuts the server down.
func withServer(_ configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                host: String = "127.0.0.1",
                rejectionResponse: (@Sendable (HTTPRequestRejection) -> HTTPResponse)? = nil,
                handler: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void,
                _ body: (HTTPServer) throws -> Void) throws {
    var configuration = configuration
    configuration.host = host
    configuration.port = 0
    let server = try HTTPServer(configuration: configuration,
                                handler: HTTPClosureHandler(handler, rejectionResponse: rejectionResponse))
    try server.start()
    defer { server.shutdown() }
    try body(server)
}

/// Waits (bounded) until `condition` holds; returns whether it did.
func eventually(timeoutSeconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}
