/// Size limits and the allowed-method list the request parser enforces, each with its status:
/// request line or header section too large -> 431, body too large -> 413, method not listed -> 405.
public struct HTTPParserLimits: Sendable, Equatable {
    /// The longest request line accepted, in bytes (without the line ending).
    public var maxRequestLineBytes: Int
    /// The largest header section accepted, in bytes (all header lines; also bounds trailers).
    public var maxHeaderBytes: Int
    /// The most header fields accepted in one request (also bounds trailers).
    public var maxHeaderCount: Int
    /// The largest request body accepted, in bytes (Content-Length or the sum of chunk sizes).
    public var maxBodyBytes: Int
    /// The methods the server accepts; others get 405 with an `Allow` header.
    public var allowedMethods: Set<HTTPMethod>

    public init(maxRequestLineBytes: Int = 8 * 1024, maxHeaderBytes: Int = 32 * 1024,
                maxHeaderCount: Int = 100, maxBodyBytes: Int = 4 * 1024 * 1024,
                allowedMethods: Set<HTTPMethod> = [.get, .post, .options, .head]) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.allowedMethods = allowedMethods
    }

    /// The `Allow` header value listing the allowed methods in a stable order.
    public var allowHeaderValue: String {
        allowedMethods.map(\.rawValue).sorted().joined(separator: ", ")
    }
}
