/// The application's side of the server: receives each complete request with a responder.
///
/// `handle` runs on a Dispatch global queue, never on a connection's I/O queue, one request at a
/// time per connection (the next pipelined request is handed over only after this one's response is
/// finished). It should return quickly: answer at once with `responder.send(_:)`, or keep the
/// responder and answer later from any thread. Blocking inside `handle` ties up a Dispatch worker
/// thread, not the connection's I/O.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, responder: HTTPResponder)
}

/// An `HTTPHandler` made from a closure, for small servers and tests.
public struct HTTPClosureHandler: HTTPHandler {
    private let body: @Sendable (HTTPRequest, HTTPResponder) -> Void

    public init(_ body: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void) {
        self.body = body
    }

    public func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        body(request, responder)
    }
}
