import Engine
import Foundation
import HTTPServer
import Logging
import Synchronization
import StructuredOutput
import Tokenization

/// The served model as the API sees it: the engine (token ids only) and the text edge around it.
public struct ServedModel: Sendable {
    public var engine: InferenceEngine
    public var tokenizer: Tokenizer
    public var chatTemplate: ChatTemplate
    /// Prompt + max_tokens limit in tokens (the engine's max_model_len).
    public var maxModelLength: Int
    /// Compiled `response_format` constraints over this tokenizer's vocabulary, by schema.
    public let constraints: ConstraintCache

    public init(engine: InferenceEngine, tokenizer: Tokenizer, chatTemplate: ChatTemplate, maxModelLength: Int) {
        constraints = ConstraintCache(vocabulary: Self.constraintVocabulary(tokenizer, endTokenIds: engine.endOfSequenceTokenIds))
        self.engine = engine
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.maxModelLength = maxModelLength
    }

    /// The vocabulary as `response_format` constraints see it: each normal token's bytes; special
    /// tokens never generated under a constraint, except `endTokenIds`, which end the output.
    public static func constraintVocabulary(_ tokenizer: Tokenizer, endTokenIds: [Int32]) -> TokenVocabulary {
        TokenVocabulary(tokenBytes: (0 ..< tokenizer.vocabularySize).map { id in tokenizer.isSpecial(id) ? nil : try? tokenizer.bytes(of: id) },
                        endTokenIds: endTokenIds)
    }
}

/// The OpenAI-style HTTP API: routes, authentication, CORS, /health, /metrics, /get_load, and the completion
/// endpoints. It is the one place where module errors become HTTP statuses (`APIError`).
///
/// The server can listen before the model is ready: until `attach` is called, /health answers 503 and
/// the API answers 503; `beginDraining` turns /health back to 503 and refuses new completions.
public final class OpenAIHandler: HTTPHandler {
    enum Phase: Sendable { case loading, ready(ServedModel), draining(ServedModel) }

    public let settings: APISettings
    public let metrics: APIMetrics
    let logger: Logger
    let phase = Mutex<Phase>(.loading)
    private let counter = Atomic<Int>(0)

    public init(settings: APISettings, metrics: APIMetrics, logger: Logger = Logger(label: "hamburger.api")) {
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    /// Makes the model available: /health turns 200.
    public func attach(_ model: ServedModel) {
        phase.withLock { $0 = .ready(model) }
    }

    /// Stops taking new generation requests (/health 503); requests in flight go on.
    public func beginDraining() {
        phase.withLock { p in
            if case let .ready(model) = p { p = .draining(model) }
        }
    }

    var servedModel: ServedModel? {
        phase.withLock { p in
            switch p {
            case .loading: return nil
            case let .ready(m), let .draining(m): return m
            }
        }
    }

    var isDraining: Bool { phase.withLock { if case .draining = $0 { return true } else { return false } } }

    func nextID(_ prefix: String) -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(prefix)-\(String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36))\(String(n, radix: 36))"
    }

    public func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        let start = DispatchTime.now().uptimeNanoseconds
        let log: @Sendable (Int, Int, Int) -> Void = { [logger, metrics] status, promptTokens, completionTokens in
            metrics.httpResponse(code: status, method: request.method.rawValue)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            logger.info("\(request.method.rawValue) \(request.path) \(status) \(String(format: "%.1f", ms))ms prompt_tokens=\(promptTokens) completion_tokens=\(completionTokens)")
        }
        do {
            try route(request, responder: responder, log: log)
        } catch {
            send(error, to: responder, request: request)
            log(error.status, 0, 0)
        }
    }

    private func route(_ request: HTTPRequest, responder: HTTPResponder, log: @escaping @Sendable (Int, Int, Int) -> Void) throws(APIError) {
        let path = request.path
        let routes: [String: HTTPMethod] = [
            "/health": .get, "/metrics": .get, "/get_load": .get, "/v1/models": .get, "/v1/completions": .post,
            "/v1/chat/completions": .post, "/tokenize": .post, "/detokenize": .post,
        ]
        guard let method = routes[path] else { throw .routeNotFound(method: request.method.rawValue, path: path) }
        if request.method == .options {
            var headers = HTTPHeaders()
            addCORS(to: &headers, request: request)
            headers.add(name: "Allow", value: "\(method.rawValue), OPTIONS")
            _ = responder.send(HTTPResponse(status: .noContent, headers: headers))
            log(204, 0, 0)
            return
        }
        guard request.method == method || (method == .get && request.method == .head) else {
            throw .methodNotAllowed(method: request.method.rawValue, path: path)
        }
        switch path {
        case "/health":
            let ready = servedModel != nil && !isDraining
            sendJSON(ready ? #"{"status":"ok"}"# : #"{"status":"unavailable"}"#, status: ready ? 200 : 503, to: responder, request: request)
            log(ready ? 200 : 503, 0, 0)
            return
        case "/metrics":
            let stats = servedModel?.engine.stats()
            let text = stats.map { metrics.render(stats: $0) } ?? metrics.registry.emitToString()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            _ = responder.send(HTTPResponse(status: .ok, headers: headers, body: Data(text.utf8)))
            log(200, 0, 0)
            return
        case "/get_load":
            sendJSON(JSONCoding.encode(WorkerLoad(stats: servedModel?.engine.stats())), to: responder, request: request)
            log(200, 0, 0)
            return
        default:
            break
        }
        try authorize(request)
        guard let model = servedModel else { throw .unavailable("The model is still loading; retry in a few seconds.") }
        switch path {
        case "/v1/models":
            let list = ModelList(data: [.init(id: settings.servedModelName, created: settings.createdAt, maxModelLen: model.maxModelLength)])
            sendJSON(JSONCoding.encode(list), to: responder, request: request)
            log(200, 0, 0)
        case "/v1/completions":
            guard !isDraining else { throw .unavailable("The server is shutting down and takes no new requests.") }
            try startCompletion(request, model: model, responder: responder, log: log)
        case "/v1/chat/completions":
            guard !isDraining else { throw .unavailable("The server is shutting down and takes no new requests.") }
            try startChat(request, model: model, responder: responder, log: log)
        case "/tokenize":
            sendJSON(try tokenize(request, model: model), to: responder, request: request)
            log(200, 0, 0)
        case "/detokenize":
            sendJSON(try detokenize(request, model: model), to: responder, request: request)
            log(200, 0, 0)
        default:
            throw .routeNotFound(method: request.method.rawValue, path: path)
        }
    }

    private func authorize(_ request: HTTPRequest) throws(APIError) {
        guard !settings.apiKeys.isEmpty else { return }
        let header = request.headers["Authorization"] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), settings.apiKeys.contains(String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)) else {
            throw .unauthorized
        }
    }

    func addCORS(to headers: inout HTTPHeaders, request: HTTPRequest) {
        guard !settings.corsOrigins.isEmpty, let origin = request.headers["Origin"] else { return }
        if settings.corsOrigins.contains("*") {
            headers.add(name: "Access-Control-Allow-Origin", value: "*")
        } else if settings.corsOrigins.contains(origin) {
            headers.add(name: "Access-Control-Allow-Origin", value: origin)
            headers.add(name: "Vary", value: "Origin")
        } else {
            return
        }
        headers.add(name: "Access-Control-Allow-Methods", value: "GET, POST, OPTIONS")
        headers.add(name: "Access-Control-Allow-Headers", value: "Authorization, Content-Type")
    }

    func sendJSON(_ body: Data, status: Int = 200, to responder: HTTPResponder, request: HTTPRequest, extraHeaders: HTTPHeaders = HTTPHeaders()) {
        var headers = extraHeaders
        headers.add(name: "Content-Type", value: "application/json")
        addCORS(to: &headers, request: request)
        _ = responder.send(HTTPResponse(status: HTTPStatus(code: status), headers: headers, body: body))
    }

    func sendJSON(_ body: String, status: Int = 200, to responder: HTTPResponder, request: HTTPRequest) {
        sendJSON(Data(body.utf8), status: status, to: responder, request: request)
    }

    /// Requests the HTTP layer refuses (malformed, too large, too slow) get the same OpenAI envelope.
    public func response(for rejection: HTTPRequestRejection) -> HTTPResponse {
        let error = APIError.httpRejected(status: rejection.status.code, reason: rejection.reason)
        metrics.httpResponse(code: rejection.status.code, method: "-")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        if rejection.status.code == 503 { headers.add(name: "Retry-After", value: "1") }
        return HTTPResponse(status: rejection.status, headers: headers, body: JSONCoding.encode(error.envelope))
    }

    func send(_ error: APIError, to responder: HTTPResponder, request: HTTPRequest) {
        var headers = HTTPHeaders()
        if case let .overloaded(seconds) = error { headers.add(name: "Retry-After", value: "\(seconds)") }
        if case .unavailable = error { headers.add(name: "Retry-After", value: "5") }
        if case .unauthorized = error { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        sendJSON(JSONCoding.encode(error.envelope), status: error.status, to: responder, request: request, extraHeaders: headers)
    }
}
