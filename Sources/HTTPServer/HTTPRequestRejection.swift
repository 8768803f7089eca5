/// Why the parser refused a request, and the status to answer with before closing the connection.
///
/// Not thrown: it is the parser's verdict on client input (400, 405, 413, 431, 505, ...), which the
/// connection turns into an error response. `reason` is a short human-readable explanation that goes
/// into the response body.
public struct HTTPRequestRejection: Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPStatus
    public let reason: String

    public init(_ status: HTTPStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status.code): \(reason)" }
}
