/// Everything that can go wrong setting up or running the server, with what to do about it.
public enum HTTPServerError: Error, Equatable, CustomStringConvertible {
    /// `getaddrinfo` could not turn the configured host into an address.
    case invalidHost(host: String, reason: String)
    /// Creating, configuring, binding or listening on the socket failed.
    case bindFailed(address: String, errno: Int32, reason: String)
    /// The server was started twice, or used after `shutdown()`.
    case invalidState(String)
    /// Building the TLS context failed: an unreadable or invalid file, or a key that does not match.
    case tlsSetupFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .invalidHost(let host, let reason):
            return "Cannot resolve listen host '\(host)': \(reason). Use a numeric address such as 0.0.0.0, ::, 127.0.0.1 or ::1."
        case .bindFailed(let address, let code, let reason):
            return "Cannot listen on \(address): \(reason) (errno \(code)). "
                + "Check that the port is free and allowed (ports below 1024 need privileges), or choose another."
        case .invalidState(let message):
            return "HTTP server misuse: \(message)."
        case .tlsSetupFailed(let file, let reason):
            return "TLS setup failed for '\(file)': \(reason). Check that the PEM certificate and private key exist, "
                + "are readable, and belong together."
        }
    }
}
