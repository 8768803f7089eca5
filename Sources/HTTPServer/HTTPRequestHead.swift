/// The parsed request line and header section of one request, before its body.
///
/// The parser has already validated it: the method is allowed, the version is 1.0 or 1.1, the
/// framing headers agree, and HTTP/1.1 requests carry exactly one `Host`.
public struct HTTPRequestHead: Sendable, Equatable {
    /// How the request body is delimited on the wire.
    public enum BodyFraming: Sendable, Equatable {
        /// No body (no `Content-Length`, no `Transfer-Encoding`, or `Content-Length: 0`).
        case none
        /// A body of exactly this many bytes (`Content-Length`).
        case length(Int)
        /// A chunked body (`Transfer-Encoding: chunked`), its size known only at the end.
        case chunked
    }

    public var method: HTTPMethod
    /// The request target exactly as sent (`/v1/models?x=1`, `*`, or an absolute URI).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var bodyFraming: BodyFraming

    public init(method: HTTPMethod, target: String, version: HTTPVersion, headers: HTTPHeaders,
                bodyFraming: BodyFraming) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.bodyFraming = bodyFraming
    }

    /// Whether the client wants the connection kept open after this request (RFC 9112 §9.3):
    /// HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    public var wantsKeepAlive: Bool {
        let tokens = headers.tokens(for: "Connection")
        if tokens.contains("close") { return false }
        if version == .http1_0 { return tokens.contains("keep-alive") }
        return true
    }

    /// Whether the client waits for `100 Continue` before sending its body.
    public var expectsContinue: Bool {
        version == .http1_1 && bodyFraming != .none && headers.tokens(for: "Expect").contains("100-continue")
    }

    /// The path part of the target, without the query (`/v1/models` for `/v1/models?x=1`;
    /// the path of an absolute-form target; `*` for asterisk-form).
    public var path: String {
        var rest = Substring(target)
        if let schemeEnd = rest.range(of: "://"), !rest.hasPrefix("/") {
            rest = rest[schemeEnd.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let question = rest.firstIndex(of: "?") { rest = rest[..<question] }
        return String(rest)
    }

    /// The query part of the target (after `?`, without it), or nil when there is none.
    public var query: String? {
        guard let question = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: question)...])
    }
}
