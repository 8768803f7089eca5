/// Every error the API answers with, mapped in this one place to an HTTP status and the OpenAI error
/// envelope `{"error": {"message", "type", "param", "code"}}`.
public enum APIError: Error, Equatable, CustomStringConvertible {
    /// A field is missing, of the wrong type or out of range; `param` names it.
    case invalidField(param: String, message: String)
    /// The body is not JSON at all.
    case invalidJSON(String)
    /// Prompt plus max_tokens exceed the model's context.
    case contextLengthExceeded(maxContext: Int, requested: Int, promptTokens: Int, maxTokens: Int)
    case modelNotFound(String)
    case routeNotFound(method: String, path: String)
    case methodNotAllowed(method: String, path: String)
    case unauthorized
    /// The waiting queue is full; retry after the given seconds.
    case overloaded(retryAfterSeconds: Int)
    /// The server is draining for shutdown or not ready yet.
    case unavailable(String)
    case internalError(String)
    /// Refused by the HTTP layer before the API saw it (400, 405, 408, 413, 431, 505, 503, ...).
    case httpRejected(status: Int, reason: String)

    /// The HTTP status code.
    public var status: Int {
        switch self {
        case .invalidField, .invalidJSON, .contextLengthExceeded: return 400
        case .unauthorized: return 401
        case .modelNotFound, .routeNotFound: return 404
        case .methodNotAllowed: return 405
        case .overloaded, .unavailable: return 503
        case .internalError: return 500
        case let .httpRejected(status, _): return status
        }
    }

    public var type: String {
        switch self {
        case .invalidField, .invalidJSON, .contextLengthExceeded: return "invalid_request_error"
        case .unauthorized: return "authentication_error"
        case .modelNotFound, .routeNotFound, .methodNotAllowed: return "invalid_request_error"
        case .overloaded, .unavailable: return "server_error"
        case .internalError: return "server_error"
        case let .httpRejected(status, _): return status >= 500 ? "server_error" : "invalid_request_error"
        }
    }

    public var param: String? {
        switch self {
        case let .invalidField(param, _): return param
        case .contextLengthExceeded: return "messages"
        case .modelNotFound: return "model"
        default: return nil
        }
    }

    public var code: String? {
        switch self {
        case .invalidField, .invalidJSON: return "invalid_value"
        case .contextLengthExceeded: return "context_length_exceeded"
        case .modelNotFound: return "model_not_found"
        case .routeNotFound: return "not_found"
        case .methodNotAllowed: return "method_not_allowed"
        case .unauthorized: return "invalid_api_key"
        case .overloaded: return "server_overloaded"
        case .unavailable: return "service_unavailable"
        case .internalError: return "internal_error"
        case let .httpRejected(status, _):
            switch status {
            case 408: return "request_timeout"
            case 413: return "request_too_large"
            case 431: return "headers_too_large"
            case 405: return "method_not_allowed"
            case 503: return "server_overloaded"
            default: return "bad_request"
            }
        }
    }

    public var message: String {
        switch self {
        case let .invalidField(_, message): return message
        case let .invalidJSON(why): return "The request body is not valid JSON: \(why)"
        case let .contextLengthExceeded(maxContext, requested, prompt, maxTokens):
            return "This model's maximum context length is \(maxContext) tokens. However, you requested \(requested) tokens (\(prompt) in the messages, \(maxTokens) in the completion). Please reduce the length of the messages or completion."
        case let .modelNotFound(name): return "The model '\(name)' does not exist. GET /v1/models lists the served model."
        case let .routeNotFound(method, path): return "No route for \(method) \(path)."
        case let .methodNotAllowed(method, path): return "Method \(method) is not allowed for \(path)."
        case .unauthorized: return "Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'."
        case let .overloaded(seconds): return "The server is at capacity (the waiting queue is full). Retry after \(seconds) seconds."
        case let .unavailable(why): return why
        case let .internalError(why): return "Internal error: \(why)"
        case let .httpRejected(_, reason): return reason
        }
    }

    public var description: String { "\(status) \(message)" }

    /// The OpenAI error envelope.
    public var envelope: ErrorEnvelope {
        ErrorEnvelope(error: .init(message: message, type: type, param: param, code: code))
    }
}

/// `{"error": {...}}`, the body of every error response and of an error sent inside a stream.
public struct ErrorEnvelope: Codable, Equatable, Sendable {
    public struct Body: Codable, Equatable, Sendable {
        public var message: String
        public var type: String
        public var param: String?
        public var code: String?

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)   // null, not absent, as OpenAI does
            try c.encode(code, forKey: .code)
        }
    }
    public var error: Body
}
