import Engine

/// What the API layer needs to know about the deployment: the served model's name and limits, who may
/// call it, and the defaults for fields a request leaves out. Operator configuration, not model facts.
public struct APISettings: Sendable {
    public var servedModelName: String
    /// Accepted bearer keys; empty = open.
    public var apiKeys: Set<String>
    /// Allowed browser origins ("*" = any); empty = no CORS headers.
    public var corsOrigins: [String]
    public var defaultDecoding: DecodingMode
    /// Unix time the model was loaded (for /v1/models).
    public var createdAt: Int

    public init(servedModelName: String, apiKeys: Set<String> = [], corsOrigins: [String] = [],
                defaultDecoding: DecodingMode = .autoregressive, createdAt: Int = 0) {
        self.servedModelName = servedModelName
        self.apiKeys = apiKeys
        self.corsOrigins = corsOrigins
        self.defaultDecoding = defaultDecoding
        self.createdAt = createdAt
    }
}
