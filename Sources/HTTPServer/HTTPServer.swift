import Dispatch
import Foundation

/// An HTTP/1.1 server on BSD sockets and Dispatch: a listening socket, one serial queue per
/// connection, the handler called for each complete request.
///
/// Lifecycle: `init` (validates TLS files), `start()` (binds and listens; `port` then tells the bound
/// port, useful with port 0), then `stopAccepting()` to drain (idle connections close, busy ones
/// close after their current response), `openConnectionCount` / `waitForConnectionsToClose` to watch
/// the drain, and `shutdown()` to close everything at once (responses in progress see `onClose`).
public final class HTTPServer: @unchecked Sendable {
    public let configuration: HTTPServerConfiguration
    private let handler: any HTTPHandler
    private let tlsContext: TLSContext?
    private let acceptQueue = DispatchQueue(label: "HTTPServer.accept")
    private static let acceptQueueKey = DispatchSpecificKey<Bool>()
    private let listenerClosed = DispatchSemaphore(value: 0)
    private let lock = NSCondition()
    // Guarded by `lock`:
    private var listener: Int32 = -1
    private var acceptSource: DispatchSourceRead?
    private var acceptSuspended = false
    private var boundAddress: HTTPSocketAddress?
    private var channels: [ObjectIdentifier: ConnectionChannel] = [:]
    private var servingCount = 0
    private var rejectingCount = 0
    private var isAccepting = false
    private var isDraining = false
    private var wasStarted = false

    /// Prepares a server; loads the TLS certificate and key when configured (throwing
    /// `HTTPServerError.tlsSetupFailed` naming the bad file).
    public init(configuration: HTTPServerConfiguration, handler: some HTTPHandler) throws {
        self.configuration = configuration
        self.handler = handler
        if let tls = configuration.tls {
            tlsContext = try TLSContext(certificatePath: tls.certificatePath, privateKeyPath: tls.privateKeyPath)
        } else {
            tlsContext = nil
        }
        acceptQueue.setSpecific(key: Self.acceptQueueKey, value: true)
    }

    deinit {
        shutdown()
    }

    /// Binds, listens and starts accepting. Throws `HTTPServerError.bindFailed` naming the address.
    public func start() throws {
        Socket.ignoreSIGPIPE
        lock.lock()
        defer { lock.unlock() }
        guard !wasStarted else { throw HTTPServerError.invalidState("start() was called twice") }
        let (fd, address) = try Socket.listen(host: configuration.host, port: configuration.port,
                                              backlog: configuration.backlog, reuseAddress: configuration.reuseAddress)
        wasStarted = true
        listener = fd
        boundAddress = address
        isAccepting = true
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        source.setEventHandler { [weak self] in self?.acceptPending() }
        let closed = listenerClosed
        source.setCancelHandler {
            Socket.close(fd)
            closed.signal()
        }
        acceptSource = source
        source.resume()
    }

    /// The address the server listens on (after `start()`).
    public var localAddress: HTTPSocketAddress? {
        lock.lock()
        defer { lock.unlock() }
        return boundAddress
    }

    /// The bound TCP port (after `start()`; the ephemeral one when configured with port 0), or 0.
    public var port: Int { localAddress?.port ?? 0 }

    /// Connections open now, including over-limit ones being answered 503.
    public var openConnectionCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return channels.count
    }

    /// Stops accepting and starts draining: the listening socket closes, idle keep-alive connections
    /// close, and busy ones close after their current response (which announces `Connection: close`).
    /// When it returns, the listening socket is closed, so new connections are refused.
    public func stopAccepting() {
        lock.lock()
        let source = acceptSource
        acceptSource = nil
        if let source, acceptSuspended {
            acceptSuspended = false
            source.resume()  // a suspended source would never run its cancel handler
        }
        isAccepting = false
        isDraining = true
        let open = Array(channels.values)
        lock.unlock()
        if let source {
            source.cancel()
            // The cancel handler closes the socket on acceptQueue; wait for it unless we are there.
            if DispatchQueue.getSpecific(key: Self.acceptQueueKey) == nil {
                _ = listenerClosed.wait(timeout: .now() + 2)
            }
        }
        for channel in open { channel.startDraining() }
    }

    /// Waits until every connection has closed (true) or `timeout` passes (false).
    public func waitForConnectionsToClose(timeout: Duration) -> Bool {
        let components = timeout.components
        let deadline = Date(timeIntervalSinceNow: Double(components.seconds) + Double(components.attoseconds) / 1e18)
        lock.lock()
        defer { lock.unlock() }
        while !channels.isEmpty {
            if !lock.wait(until: deadline) { break }
        }
        return channels.isEmpty
    }

    /// Stops accepting and closes every connection now; responses in progress see `onClose`.
    public func shutdown() {
        stopAccepting()
        lock.lock()
        let open = Array(channels.values)
        lock.unlock()
        for channel in open { channel.forceClose() }
    }

    // MARK: Accepting (on acceptQueue)

    private func acceptPending() {
        for _ in 0..<64 {
            lock.lock()
            let fd = listener
            let accepting = isAccepting
            let source = acceptSource
            lock.unlock()
            guard accepting else { return }
            switch Socket.accept(fd) {
            case .accepted(let client, let peer):
                admit(client, peer: peer)
            case .nonePending:
                return
            case .exhausted:
                // Out of descriptors: pending connections would wake us in a busy loop; pause a moment.
                lock.lock()
                if let source, !acceptSuspended {
                    acceptSuspended = true
                    source.suspend()
                }
                lock.unlock()
                acceptQueue.asyncAfter(deadline: .now() + .milliseconds(100)) { [weak self] in self?.resumeAccepting() }
                return
            }
        }
    }

    private func resumeAccepting() {
        lock.lock()
        defer { lock.unlock() }
        guard acceptSuspended, let source = acceptSource else { return }
        acceptSuspended = false
        source.resume()
    }

    private func admit(_ client: Int32, peer: HTTPSocketAddress?) {
        lock.lock()
        let rejecting = servingCount >= configuration.maxConnections
        if rejecting && rejectingCount >= configuration.maxRejectingConnections {
            lock.unlock()
            Socket.close(client)  // too many even to refuse politely
            return
        }
        let channel = ConnectionChannel(fd: client, peer: peer, configuration: configuration, handler: handler,
                                        tlsContext: tlsContext, isRejecting: rejecting) { [weak self] closed in
            self?.channelClosed(closed)
        }
        channels[ObjectIdentifier(channel)] = channel
        if rejecting { rejectingCount += 1 } else { servingCount += 1 }
        let draining = isDraining
        lock.unlock()
        channel.start()
        if draining { channel.startDraining() }
    }

    private func channelClosed(_ channel: ConnectionChannel) {
        lock.lock()
        if channels.removeValue(forKey: ObjectIdentifier(channel)) != nil {
            if channel.isRejecting { rejectingCount -= 1 } else { servingCount -= 1 }
        }
        lock.broadcast()
        lock.unlock()
    }
}
