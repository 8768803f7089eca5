import Foundation

/// A complete request as the handler sees it: head, whole body, and who sent it.
///
/// The body is fully read (and bounded by `maxBodyBytes`) before the handler runs; chunked bodies
/// arrive de-chunked, with their trailers in `trailers`.
public struct HTTPRequest: Sendable, Equatable {
    public var head: HTTPRequestHead
    public var body: Data
    public var trailers: HTTPHeaders
    /// The peer's address (`127.0.0.1:53122`, `[::1]:53122`).
    public var remoteAddress: HTTPSocketAddress?

    public init(head: HTTPRequestHead, body: Data = Data(), trailers: HTTPHeaders = HTTPHeaders(),
                remoteAddress: HTTPSocketAddress? = nil) {
        self.head = head
        self.body = body
        self.trailers = trailers
        self.remoteAddress = remoteAddress
    }

    public var method: HTTPMethod { head.method }
    /// The request target as sent (path and query).
    public var target: String { head.target }
    /// The target's path, without the query.
    public var path: String { head.path }
    /// The target's query string (after `?`), or nil.
    public var query: String? { head.query }
    public var version: HTTPVersion { head.version }
    public var headers: HTTPHeaders { head.headers }

    /// Whether the client accepts a gzip-coded response (`Accept-Encoding` lists `gzip` or `*` with a
    /// non-zero q-value).
    public var acceptsGzip: Bool {
        for element in headers.values(for: "Accept-Encoding").flatMap({ $0.split(separator: ",") }) {
            let parameters = element.split(separator: ";").map { HTTPHeaders.trimmed($0).lowercased() }
            guard let coding = parameters.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { continue }
            let quality = parameters.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if quality > 0 { return true }
        }
        return false
    }
}

/// An IP socket address in text form, for logs and `HTTPRequest.remoteAddress`.
public struct HTTPSocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The numeric host (`127.0.0.1`, `::1`).
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with IPv6 hosts in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
