import Foundation
import HTTPServer

/// The requests a parser's events describe, independent of how the body was sliced: what two runs of
/// the parser over the same bytes (read differently) must agree on. Building it checks the event order.
public struct ParsedRequests: Equatable, CustomStringConvertible {
    public struct Request: Equatable {
        public var head: HTTPRequestHead
        public var body = Data()
        public var trailers: HTTPHeaders?
    }

    public private(set) var requests: [Request] = []
    /// The status of the rejection that ended the events, if one did (its wording may name the limit
    /// that was hit first, which can depend on how the bytes were read, so only the status counts).
    public private(set) var rejection: HTTPStatus?

    public init(_ events: [HTTPRequestParser.Event]) {
        for event in events {
            fuzzCheck(rejection == nil, "an event followed .rejected: \(event)")
            switch event {
            case .head(let head):
                fuzzCheck(requests.last.map { $0.trailers != nil } ?? true, "a head before the previous request's end")
                requests.append(Request(head: head))
            case .body(let data):
                fuzzCheck(requests.last.map { $0.trailers == nil } ?? false, "a body outside a request")
                requests[requests.count - 1].body.append(data)
            case .end(let trailers):
                fuzzCheck(requests.last.map { $0.trailers == nil } ?? false, "an end outside a request")
                requests[requests.count - 1].trailers = trailers
            case .rejected(let why):
                rejection = why.status
            }
        }
    }

    public var description: String { "\(requests.count) requests, rejection \(String(describing: rejection))" }
}
