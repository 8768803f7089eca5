import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The I/O shell of one accepted connection: reads the socket (through TLS when configured), feeds
/// the `HTTPConnection` state machine, performs its actions, writes output with backpressure, runs
/// its timer, and serves the responder's calls.
///
/// Every mutable property is touched only on `queue` (a serial queue per connection), which is why
/// the class can be `@unchecked Sendable`; responders reach it only through `queue.async`.
final class ConnectionChannel: @unchecked Sendable {
    /// The response the handler is working on.
    struct CurrentResponse {
        let core: ResponderCore
        let isHead: Bool
        let version: HTTPVersion
        let acceptsGzip: Bool
        /// Set once a stream's head is written.
        var framing: HTTPResponseWriter.Framing?
    }

    let fd: Int32
    let queue: DispatchQueue
    let configuration: HTTPServerConfiguration
    let handler: any HTTPHandler
    /// Answers every request with 503 instead of calling the handler (the connection is over the limit).
    let isRejecting: Bool
    let gauge: WriteGauge
    let writer = HTTPResponseWriter()
    private let onClosed: @Sendable (ConnectionChannel) -> Void

    var machine: HTTPConnection
    var tls: TLSSession?
    var current: CurrentResponse?
    var output = OutputQueue()
    var isClosed = false
    var shutdownAfterFlush = false
    var writeIsShutDown = false
    private var nextResponseID: UInt64 = 0
    private var readSource: DispatchSourceRead?
    private var readSuspended = false
    private var writeSource: DispatchSourceWrite?
    private var writeArmed = false
    private var timer: DispatchSourceTimer?
    private var scheduledDeadline: ContinuousClock.Instant?
    private var sourcesToCancel = 0
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(fd: Int32, peer: HTTPSocketAddress?, configuration: HTTPServerConfiguration, handler: any HTTPHandler,
         tlsContext: TLSContext?, isRejecting: Bool, onClosed: @escaping @Sendable (ConnectionChannel) -> Void) {
        self.fd = fd
        self.queue = DispatchQueue(label: "HTTPServer.connection.\(fd)")
        self.configuration = configuration
        self.handler = handler
        self.isRejecting = isRejecting
        self.onClosed = onClosed
        self.gauge = WriteGauge(highWaterBytes: configuration.outputHighWaterBytes,
                                lowWaterBytes: configuration.outputLowWaterBytes)
        self.machine = HTTPConnection(now: .now, limits: configuration.limits, timeouts: configuration.timeouts,
                                      maxQueuedRequests: configuration.maxQueuedRequests, remoteAddress: peer)
        self.tls = tlsContext.flatMap { TLSSession(context: $0) }
    }

    /// Starts reading and the timer. A TLS session that could not be created closes the connection.
    func start() {
        queue.async { [self] in
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [weak self] in self?.readAvailable() }
            source.setCancelHandler { [self] in sourceCancelled() }
            readSource = source
            sourcesToCancel += 1
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.setEventHandler { [weak self] in self?.timerFired() }
            self.timer = timer
            timer.schedule(deadline: .distantFuture)
            timer.resume()
            source.resume()
            if configuration.tls != nil && tls == nil {
                closeNow()
                return
            }
            rescheduleTimer()
        }
    }

    /// Server draining: finish the current response, then close (idle connections close now).
    func startDraining() {
        queue.async { [self] in perform(machine.startDraining(now: .now)) }
    }

    /// Server shutdown: cancel the current response and close now.
    func forceClose() {
        queue.async { [self] in perform(machine.forceClose()) }
    }

    // MARK: Reading

    private func readAvailable() {
        var rounds = 0
        while !isClosed && !readSuspended && rounds < 16 {
            rounds += 1
            let count = readBuffer.withUnsafeMutableBytes { Socket.receive(fd, $0) }
            if count > 0 {
                guard received(count) else { return }
            } else if count == 0 {
                perform(machine.peerClosed(now: .now))
                return
            } else {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return }
                perform(machine.peerClosed(now: .now))
                return
            }
        }
    }

    /// Handles `count` fresh bytes in `readBuffer`; false when the connection closed.
    private func received(_ count: Int) -> Bool {
        guard let tls else {
            perform(machine.bytesReceived(Data(readBuffer[0..<count]), now: .now))
            return !isClosed
        }
        let result = readBuffer.withUnsafeBytes { tls.receive(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        queueWire(tls.takeCiphertext())  // handshake messages, alerts
        if result.failure != nil {
            perform(machine.peerClosed(now: .now))
            return false
        }
        if !result.plaintext.isEmpty { perform(machine.bytesReceived(result.plaintext, now: .now)) }
        if result.peerClosed { perform(machine.peerClosed(now: .now)) }
        return !isClosed
    }

    private func suspendReading() {
        guard !readSuspended, let readSource else { return }
        readSuspended = true
        readSource.suspend()
    }

    private func resumeReading() {
        guard readSuspended, let readSource else { return }
        readSuspended = false
        readSource.resume()
    }

    // MARK: Actions

    /// Performs the state machine's actions in order, then re-arms the timer.
    func perform(_ actions: [HTTPConnection.Action]) {
        for action in actions where !isClosed {
            switch action {
            case .dispatch(let request):
                dispatch(request)
            case .sendContinue:
                sendPlain(writer.continueResponse())
            case .sendRejection(let rejection):
                sendPlain(rejectionBytes(rejection))
            case .cancelResponse:
                current?.core.connectionClosed()
                current = nil
            case .pauseReading:
                suspendReading()
            case .resumeReading:
                resumeReading()
            case .shutdownWrite:
                if let tls {
                    tls.shutdown()
                    queueWire(tls.takeCiphertext())
                }
                shutdownAfterFlush = true
                flush()
            case .close:
                closeNow()
            }
        }
        if !isClosed { rescheduleTimer() }
    }

    private func dispatch(_ request: HTTPRequest) {
        nextResponseID += 1
        let core = ResponderCore(responseID: nextResponseID, sink: self, gauge: gauge,
                                 maxOutputBufferBytes: configuration.maxOutputBufferBytes)
        current = CurrentResponse(core: core, isHead: request.method == .head, version: request.version,
                                  acceptsGzip: request.acceptsGzip)
        let responder = HTTPResponder(core: core)
        if isRejecting {
            var response = handler.response(for: HTTPRequestRejection(
                .serviceUnavailable, "The server is at its connection limit; retry shortly."))
            if !response.headers.contains("Retry-After") { response.headers.add(name: "Retry-After", value: "1") }
            response.headers.replaceOrAdd(name: "Connection", value: "close")
            responder.send(response)
            return
        }
        let handler = self.handler
        DispatchQueue.global(qos: .userInitiated).async {
            handler.handle(request, responder: responder)
        }
    }

    private func timerFired() {
        scheduledDeadline = nil
        perform(machine.tick(now: .now))
    }

    /// The wire bytes of the handler's response for a rejection, announcing `Connection: close`.
    private func rejectionBytes(_ rejection: HTTPRequestRejection) -> Data {
        var response = handler.response(for: rejection)
        if rejection.status == .methodNotAllowed && !response.headers.contains("Allow") {
            response.headers.add(name: "Allow", value: configuration.limits.allowHeaderValue)
        }
        let framing: HTTPResponseWriter.Framing = response.status.forbidsBody ? .none : .length(response.body.count)
        var bytes = writer.head(status: response.status, headers: response.headers, framing: framing, keepAlive: false,
                                date: HTTPDate.now())
        if !response.status.forbidsBody { bytes.append(response.body) }
        return bytes
    }

    private func rescheduleTimer() {
        guard let timer, machine.nextDeadline != scheduledDeadline else { return }
        scheduledDeadline = machine.nextDeadline
        guard let deadline = scheduledDeadline else {
            timer.schedule(deadline: .distantFuture)
            return
        }
        let delay = max(.zero, deadline - .now)
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        timer.schedule(deadline: .now() + .nanoseconds(Int(clamping: nanoseconds)), leeway: .milliseconds(5))
    }

    // MARK: Closing

    /// Closes now: tells the responder, wakes writers, cancels the sources; the descriptor is closed
    /// once every source's cancel handler has run.
    func closeNow() {
        guard !isClosed else { return }
        isClosed = true
        current?.core.connectionClosed()
        current = nil
        gauge.close()
        output.removeAll()
        timer?.cancel()
        if let readSource {
            if readSuspended { readSource.resume() }
            readSource.cancel()
        }
        if let writeSource {
            if !writeArmed { writeSource.resume() }
            writeSource.cancel()
        }
        if sourcesToCancel == 0 { Socket.close(fd) }
        onClosed(self)
    }

    private func sourceCancelled() {
        sourcesToCancel -= 1
        if sourcesToCancel == 0 { Socket.close(fd) }
    }

    // MARK: Write readiness

    func armWriteSource() {
        guard !writeArmed else { return }
        writeArmed = true
        if let writeSource {
            writeSource.resume()
            return
        }
        let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self] in self?.flush() }
        source.setCancelHandler { [self] in sourceCancelled() }
        sourcesToCancel += 1
        writeSource = source
        source.resume()
    }

    func disarmWriteSource() {
        guard writeArmed, let writeSource else { return }
        writeArmed = false
        writeSource.suspend()
    }
}
