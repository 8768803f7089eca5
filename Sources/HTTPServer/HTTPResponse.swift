import Foundation

/// A complete (non-streamed) response: status, headers and the whole body.
///
/// The server adds `Date`, `Content-Length` and, when closing, `Connection: close`; any
/// `Content-Length`, `Transfer-Encoding` or `Connection` given here is replaced. When the request
/// accepts gzip and the body is over the configured threshold, the body goes out gzip-coded with
/// `Content-Encoding: gzip` and `Vary: Accept-Encoding` (unless a `Content-Encoding` is already set).
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a UTF-8 text body and its content type.
    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), text: String,
                contentType: String = "text/plain; charset=utf-8") {
        var headers = headers
        if !headers.contains("Content-Type") { headers.add(name: "Content-Type", value: contentType) }
        self.init(status: status, headers: headers, body: Data(text.utf8))
    }
}
