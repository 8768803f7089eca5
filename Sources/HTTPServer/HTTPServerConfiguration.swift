/// Everything an `HTTPServer` is told: where to listen, how many connections, limits, timeouts,
/// output buffering, compression and TLS.
public struct HTTPServerConfiguration: Sendable {
    /// Certificate and key files (PEM) for serving HTTPS.
    public struct TLS: Sendable, Equatable {
        /// The certificate chain, leaf first (PEM).
        public var certificatePath: String
        /// The private key of the leaf certificate (PEM, unencrypted).
        public var privateKeyPath: String

        public init(certificatePath: String, privateKeyPath: String) {
            self.certificatePath = certificatePath
            self.privateKeyPath = privateKeyPath
        }
    }

    /// The numeric address (or resolvable name) to bind: `127.0.0.1`, `0.0.0.0`, `::1`, or `::`
    /// (all IPv6 and, dual stack, all IPv4 addresses).
    public var host: String
    /// The TCP port; 0 picks a free ephemeral port (read it back from `HTTPServer.port`).
    public var port: Int
    /// The listen backlog (pending connections the kernel queues before `accept`).
    public var backlog: Int
    /// Sets SO_REUSEADDR so a restarted server can bind while old connections sit in TIME_WAIT.
    public var reuseAddress: Bool
    /// The most connections served at once; a connection over the limit gets `503` and is closed.
    public var maxConnections: Int
    /// Over-limit connections that may be held at once just to answer them `503`; beyond that,
    /// new connections are closed at once.
    public var maxRejectingConnections: Int
    public var limits: HTTPParserLimits
    public var timeouts: HTTPTimeouts
    /// Complete pipelined requests queued behind the one being handled before reading pauses.
    public var maxQueuedRequests: Int
    /// Output bytes queued per connection above which a streaming writer is told to slow down
    /// (`HTTPResponder.write` returns false).
    public var outputHighWaterBytes: Int
    /// Output bytes queued at or below which a slowed writer is told to resume (`onWritable`,
    /// `waitUntilWritable`).
    public var outputLowWaterBytes: Int
    /// The hard cap on queued output bytes per connection: a stream write that would exceed it closes
    /// the connection instead of buffering (a whole `HTTPResponse` is always accepted).
    public var maxOutputBufferBytes: Int
    /// Whether non-streamed responses are gzip-coded for clients that accept it.
    public var gzipEnabled: Bool
    /// The smallest body, in bytes, worth compressing.
    public var gzipMinimumBytes: Int
    /// Serve HTTPS with these files; nil serves plain HTTP.
    public var tls: TLS?

    public init(host: String = "127.0.0.1", port: Int = 8080, backlog: Int = 256, reuseAddress: Bool = true,
                maxConnections: Int = 1024, maxRejectingConnections: Int = 64,
                limits: HTTPParserLimits = HTTPParserLimits(), timeouts: HTTPTimeouts = HTTPTimeouts(),
                maxQueuedRequests: Int = 16, outputHighWaterBytes: Int = 256 * 1024,
                outputLowWaterBytes: Int = 64 * 1024, maxOutputBufferBytes: Int = 8 * 1024 * 1024,
                gzipEnabled: Bool = true, gzipMinimumBytes: Int = 1024, tls: TLS? = nil) {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.reuseAddress = reuseAddress
        self.maxConnections = maxConnections
        self.maxRejectingConnections = maxRejectingConnections
        self.limits = limits
        self.timeouts = timeouts
        self.maxQueuedRequests = maxQueuedRequests
        self.outputHighWaterBytes = outputHighWaterBytes
        self.outputLowWaterBytes = outputLowWaterBytes
        self.maxOutputBufferBytes = maxOutputBufferBytes
        self.gzipEnabled = gzipEnabled
        self.gzipMinimumBytes = gzipMinimumBytes
        self.tls = tls
    }
}
