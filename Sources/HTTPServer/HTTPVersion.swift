/// The protocol version of a request: HTTP/1.0 or HTTP/1.1 (the only ones this server speaks).
///
/// It decides the keep-alive default (1.1: persistent unless `Connection: close`; 1.0: closed unless
/// `Connection: keep-alive`) and whether a streamed response may use chunked transfer coding (1.1 only).
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}
