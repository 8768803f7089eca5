/// The application's side of the server: receives each complete request with a responder.
///
/// `handle` runs on a Dispatch global queue, never on a connection's I/O queue, one request at a
/// time per connection (the next pipelined request is handed over only after this one's response is
/// finished). It should return quickly: answer at once with `responder.send(_:)`, or keep the
/// responder and answer later from any thread. Blocking inside `handle` ties up a Dispatch worker
/// thread, not the connection's I/O.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, responder: HTTPResponder)

    /// The response for a request the server refuses by itself, before any handler sees it: parse
    /// errors and limits (400, 405, 408, 413, 417, 431, 501, 505) and connections over the limit
    /// (503). Lets the application use its own error format and count refusals. Called on the
    /// connection's queue: keep it fast and non-blocking. The server adds `Connection: close` (and
    /// `Allow` for 405); the default is a short plain-text body.
    func response(for rejection: HTTPRequestRejection) -> HTTPResponse
}

extension HTTPHandler {
    public func response(for rejection: HTTPRequestRejection) -> HTTPResponse {
        HTTPResponse(status: rejection.status,
                     text: "\(rejection.status.code) \(rejection.status.reasonPhrase): \(rejection.reason)\n")
    }
}

/// An `HTTPHandler` made from closures, for small servers and tests.
public struct HTTPClosureHandler: HTTPHandler {
    private let body: @Sendable (HTTPRequest, HTTPResponder) -> Void
    private let rejectionBody: (@Sendable (HTTPRequestRejection) -> HTTPResponse)?

    public init(_ body: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void,
                rejectionResponse: (@Sendable (HTTPRequestRejection) -> HTTPResponse)? = nil) {
        self.body = body
        self.rejectionBody = rejectionResponse
    }

    public func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        body(request, responder)
    }

    public func response(for rejection: HTTPRequestRejection) -> HTTPResponse {
        if let rejectionBody { return rejectionBody(rejection) }
        return HTTPResponse(status: rejection.status,
                            text: "\(rejection.status.code) \(rejection.status.reasonPhrase): \(rejection.reason)\n")
    }
}
