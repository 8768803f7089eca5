import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the BSD socket calls the server makes (listen, accept, send, recv, close),
/// turning failures into `HTTPServerError` or plain results.
enum Socket {
    /// Creates a non-blocking listening socket bound to `host:port`; returns it and the bound address.
    static func listen(host: String, port: Int, backlog: Int, reuseAddress: Bool) throws -> (Int32, HTTPSocketAddress) {
        let display = HTTPSocketAddress(host: host, port: port).description
        guard (0...65535).contains(port) else {
            throw HTTPServerError.bindFailed(address: display, errno: EINVAL, reason: "port \(port) is outside 0...65535")
        }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw HTTPServerError.invalidHost(host: host, reason: decodeCString(gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var lastError = HTTPServerError.bindFailed(address: display, errno: 0, reason: "no usable address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            do {
                let fd = try bindAndListen(info.pointee, display: display, backlog: backlog, reuseAddress: reuseAddress)
                return (fd, localAddress(of: fd) ?? HTTPSocketAddress(host: host, port: port))
            } catch {
                lastError = (error as? HTTPServerError) ?? lastError
            }
        }
        throw lastError
    }

    private static func bindAndListen(_ info: addrinfo, display: String, backlog: Int, reuseAddress: Bool) throws -> Int32 {
        let fd = socket(info.ai_family, info.ai_socktype | socketFlags, info.ai_protocol)
        guard fd >= 0 else { throw failure(display, "socket() failed") }
        var one: Int32 = 1, zero: Int32 = 0
        let size = socklen_t(MemoryLayout<Int32>.size)
        if reuseAddress, setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, size) != 0 {
            let error = failure(display, "setsockopt(SO_REUSEADDR) failed")
            close(fd)
            throw error
        }
        if info.ai_family == AF_INET6 {
            // `::` listens dual stack; a specific IPv6 address is unaffected.
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, size)
        }
        guard bind(fd, info.ai_addr, info.ai_addrlen) == 0 else {
            let error = failure(display, "bind() failed")
            close(fd)
            throw error
        }
        guard systemListen(fd, Int32(clamping: backlog)) == 0 else {
            let error = failure(display, "listen() failed")
            close(fd)
            throw error
        }
        guard setNonBlocking(fd) else {
            let error = failure(display, "fcntl(O_NONBLOCK) failed")
            close(fd)
            throw error
        }
        return fd
    }

    private static func failure(_ address: String, _ what: String) -> HTTPServerError {
        let code = errno
        return .bindFailed(address: address, errno: code, reason: "\(what): \(decodeCString(strerror(code)))")
    }

    #if canImport(Glibc)
    private static let socketFlags = Int32(SOCK_CLOEXEC.rawValue)
    #else
    private static let socketFlags: Int32 = 0
    #endif

    /// What one `accept` call produced.
    enum AcceptResult {
        case accepted(fd: Int32, peer: HTTPSocketAddress?)
        /// Nothing pending (or a connection that failed before we took it): stop for now.
        case nonePending
        /// Out of descriptors or memory: the caller should back off before trying again.
        case exhausted
    }

    /// Accepts one pending connection as a non-blocking socket.
    static func accept(_ listener: Int32) -> AcceptResult {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { systemAccept(listener, $0, &length) }
        }
        guard fd >= 0 else {
            let code = errno
            if code == EINTR || code == ECONNABORTED { return accept(listener) }
            return code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM ? .exhausted : .nonePending
        }
        guard setNonBlocking(fd) else {
            close(fd)
            return .nonePending
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        #if canImport(Darwin)
        var noSignal: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &noSignal, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return .accepted(fd: fd, peer: address(from: storage))
    }

    static func setNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
    }

    /// The address a socket is bound to (used to learn the ephemeral port).
    static func localAddress(of fd: Int32) -> HTTPSocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return status == 0 ? address(from: storage) : nil
    }

    /// The numeric host and port of an IPv4 or IPv6 socket address.
    static func address(from storage: sockaddr_storage) -> HTTPSocketAddress? {
        var copy = storage
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let length = socklen_t(copy.ss_family == sa_family_t(AF_INET6)
            ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let status = withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
                            NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return nil }
        var hostText = decodeCString(host)
        if hostText.hasPrefix("::ffff:"), hostText.contains(".") { hostText.removeFirst(7) }  // IPv4-mapped
        return HTTPSocketAddress(host: hostText, port: Int(decodeCString(service)) ?? 0)
    }

    /// Sends without raising SIGPIPE; returns bytes sent, or -1 with `errno` set.
    static func send(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
        #if canImport(Glibc)
        return Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
        #else
        return Darwin.send(fd, buffer.baseAddress, buffer.count, 0)
        #endif
    }

    static func receive(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        recv(fd, buffer.baseAddress, buffer.count, 0)
    }

    static func shutdownWrite(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        #else
        _ = Darwin.shutdown(fd, SHUT_WR)
        #endif
    }

    static func close(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }

    /// Ignores SIGPIPE process-wide, once: a peer that vanishes must not kill the server.
    static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()
}

#if canImport(Glibc)
private func systemListen(_ fd: Int32, _ backlog: Int32) -> Int32 { Glibc.listen(fd, backlog) }
private func systemAccept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: inout socklen_t) -> Int32 {
    Glibc.accept(fd, address, &length)
}
#else
private func systemListen(_ fd: Int32, _ backlog: Int32) -> Int32 { Darwin.listen(fd, backlog) }
private func systemAccept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: inout socklen_t) -> Int32 {
    Darwin.accept(fd, address, &length)
}
#endif

/// Decodes a NUL-terminated C string held in a buffer.
func decodeCString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// Decodes a NUL-terminated C string returned by the C library (`strerror`, `gai_strerror`).
func decodeCString(_ pointer: UnsafePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    let length = strlen(pointer)
    return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
}
