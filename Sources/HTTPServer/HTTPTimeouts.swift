/// The time limits a connection enforces; each one protects against a client (or a stalled peer)
/// holding a connection without making progress.
public struct HTTPTimeouts: Sendable, Equatable {
    /// From the first byte of a request head (or from connecting) to the end of the head; a request
    /// head still incomplete then gets 408 (slowloris). Also bounds a silent fresh connection.
    public var headerTimeout: Duration
    /// The longest gap between request-body bytes; exceeding it gets 408.
    public var bodyTimeout: Duration
    /// How long an idle keep-alive connection waits for the next request before it is closed.
    public var keepAliveTimeout: Duration
    /// How long pending output may go without any byte reaching the socket before the connection is
    /// closed (a peer that stopped reading).
    public var writeTimeout: Duration
    /// How long the output buffer may stay above its high-water mark before the connection is closed
    /// (a peer that reads too slowly for the producer).
    public var writeStallTimeout: Duration
    /// After the last response on a closing connection is flushed, how long to keep reading and
    /// discarding the peer's bytes so that the response is not lost to a TCP reset.
    public var lingerTimeout: Duration

    public init(headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
                keepAliveTimeout: Duration = .seconds(30), writeTimeout: Duration = .seconds(30),
                writeStallTimeout: Duration = .seconds(60), lingerTimeout: Duration = .seconds(2)) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.keepAliveTimeout = keepAliveTimeout
        self.writeTimeout = writeTimeout
        self.writeStallTimeout = writeStallTimeout
        self.lingerTimeout = lingerTimeout
    }
}
