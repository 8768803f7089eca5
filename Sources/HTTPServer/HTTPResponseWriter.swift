import Foundation

/// Turns responses into wire bytes: status line, headers, fixed or chunked bodies.
///
/// Pure: the caller passes the date and decides keep-alive; the writer owns the framing headers
/// (`Content-Length`, `Transfer-Encoding`, `Connection`) and drops any the application set, so the
/// framing on the wire always matches the bytes that follow.
public struct HTTPResponseWriter: Sendable {
    /// How the response body is delimited.
    public enum Framing: Sendable, Equatable {
        /// `Content-Length: n` (also used for HEAD, announcing the length a GET would have).
        case length(Int)
        /// `Transfer-Encoding: chunked` (HTTP/1.1 streams).
        case chunked
        /// Neither header: the body ends when the connection closes (HTTP/1.0 streams).
        case untilClose
        /// No body and no length header (1xx, 204, 304).
        case none
    }

    public init() {}

    /// The status line and header section.
    public func head(status: HTTPStatus, headers: HTTPHeaders,
                     framing: Framing, keepAlive: Bool, requestVersion: HTTPVersion = .http1_1,
                     date: String) -> Data {
        var text = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        for field in headers where !Self.isFramingHeader(field.name) && !HTTPHeaders.namesMatch(field.name, "Date") {
            text += "\(Self.sanitized(field.name)): \(Self.sanitized(field.value))\r\n"
        }
        text += "Date: \(headers["Date"].map(Self.sanitized) ?? date)\r\n"
        switch framing {
        case .length(let count): text += "Content-Length: \(count)\r\n"
        case .chunked: text += "Transfer-Encoding: chunked\r\n"
        case .untilClose, .none: break
        }
        if !keepAlive {
            text += "Connection: close\r\n"
        } else if requestVersion == .http1_0 {
            text += "Connection: keep-alive\r\n"
        }
        text += "\r\n"
        return Data(text.utf8)
    }

    /// One chunk of a chunked body (`size-in-hex CRLF bytes CRLF`); empty data yields nothing,
    /// since an empty chunk would end the body.
    public func chunk(_ data: Data) -> Data {
        guard !data.isEmpty else { return Data() }
        var framed = Data(String(data.count, radix: 16).utf8)
        framed.append(contentsOf: [0x0D, 0x0A])
        framed.append(data)
        framed.append(contentsOf: [0x0D, 0x0A])
        return framed
    }

    /// The last chunk and the (possibly empty) trailer section.
    public func lastChunk(trailers: HTTPHeaders = HTTPHeaders()) -> Data {
        var text = "0\r\n"
        for field in trailers where !Self.isFramingHeader(field.name) {
            text += "\(Self.sanitized(field.name)): \(Self.sanitized(field.value))\r\n"
        }
        text += "\r\n"
        return Data(text.utf8)
    }

    /// `100 Continue`.
    public func continueResponse() -> Data {
        Data("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    }

    static func isFramingHeader(_ name: String) -> Bool {
        HTTPHeaders.namesMatch(name, "Content-Length") || HTTPHeaders.namesMatch(name, "Transfer-Encoding")
            || HTTPHeaders.namesMatch(name, "Connection")
    }

    /// Strips CR and LF so that no application-supplied text can split the header section.
    static func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return text }
        return String(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    }
}
