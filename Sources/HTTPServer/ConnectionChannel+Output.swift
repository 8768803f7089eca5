import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output: encrypting, queueing and flushing bytes, and carrying out the responder's calls.
extension ConnectionChannel: ResponseSink {
    /// Sends plaintext (through TLS when configured). `counted` bytes of it are already in the gauge.
    func sendPlain(_ data: Data, counted: Int = 0) {
        guard let tls else {
            queueWire(data, counted: counted)
            return
        }
        guard !isClosed, tls.send(data) else {
            gauge.adjust(by: -counted)
            if !isClosed { perform(machine.peerClosed(now: .now)) }
            return
        }
        queueWire(tls.takeCiphertext(), counted: counted)
    }

    /// Queues wire bytes and tries to write them at once.
    func queueWire(_ bytes: Data, counted: Int = 0) {
        guard !isClosed, !writeIsShutDown, !bytes.isEmpty else {
            gauge.adjust(by: -counted)
            return
        }
        gauge.adjust(by: bytes.count - counted)
        output.append(bytes)
        flush()
    }

    /// Writes as much queued output as the socket takes; arms the write source for the rest; reports
    /// the new level to the state machine.
    func flush() {
        guard !isClosed else { return }
        var progressed = false
        while !output.isEmpty {
            let sent = output.withFront { Socket.send(fd, $0) } ?? 0
            if sent > 0 {
                gauge.adjust(by: -sent)
                progressed = true
                continue
            }
            let code = errno
            if sent < 0 && code == EINTR { continue }
            if sent < 0 && (code == EAGAIN || code == EWOULDBLOCK) {
                armWriteSource()
                break
            }
            perform(machine.peerClosed(now: .now))  // EPIPE, ECONNRESET: the peer is gone
            return
        }
        if output.isEmpty {
            disarmWriteSource()
            if shutdownAfterFlush && !writeIsShutDown {
                writeIsShutDown = true
                Socket.shutdownWrite(fd)
            }
        }
        let level = gauge.pendingBytes
        perform(machine.outputChanged(pendingBytes: output.byteCount, aboveHighWater: level > gauge.highWaterBytes,
                                      progressed: progressed, now: .now))
    }

    // MARK: ResponseSink (called from any thread)

    func deliverFull(_ response: HTTPResponse, responseID: UInt64) {
        queue.async { [self] in writeFull(response, responseID: responseID) }
    }

    func deliverStreamStart(status: HTTPStatus, headers: HTTPHeaders, responseID: UInt64) {
        queue.async { [self] in writeStreamStart(status: status, headers: headers, responseID: responseID) }
    }

    func deliverChunk(_ data: Data, responseID: UInt64) {
        queue.async { [self] in writeChunk(data, responseID: responseID) }
    }

    func deliverFinish(trailers: HTTPHeaders, responseID: UInt64) {
        queue.async { [self] in writeFinish(trailers: trailers, responseID: responseID) }
    }

    func deliverAbort(started: Bool, responseID: UInt64) {
        queue.async { [self] in
            guard !isClosed, current?.core.responseID == responseID else { return }
            if started {
                perform(machine.forceClose())
            } else {
                writeFull(HTTPResponse(status: .internalServerError, text: "500 Internal Server Error: the handler did not respond.\n"),
                          responseID: responseID)
            }
        }
    }

    // MARK: Writing responses (on the queue)

    private func writeFull(_ response: HTTPResponse, responseID: UInt64) {
        guard !isClosed, let request = current, request.core.responseID == responseID else { return }
        var headers = response.headers
        var body = response.body
        let bodyAllowed = !response.status.forbidsBody
        if configuration.gzipEnabled, bodyAllowed, body.count >= configuration.gzipMinimumBytes,
           !headers.contains("Content-Encoding") {
            // Either variant may be served for this resource, so caches must key on Accept-Encoding.
            let vary = headers.tokens(for: "Vary")
            if !vary.contains("accept-encoding") && !vary.contains("*") {
                headers.add(name: "Vary", value: "Accept-Encoding")
            }
            if request.acceptsGzip, let compressed = GzipEncoder.compress(body) {
                body = compressed
                headers.add(name: "Content-Encoding", value: "gzip")
            }
        }
        let closeRequested = headers.tokens(for: "Connection").contains("close")
        let keepAlive = machine.responseStarted(closeRequested: closeRequested)
        var bytes = writer.head(status: response.status, headers: headers, framing: bodyAllowed ? .length(body.count) : .none,
                                keepAlive: keepAlive, requestVersion: request.version, date: HTTPDate.now())
        if bodyAllowed && !request.isHead { bytes.append(body) }
        current = nil
        sendPlain(bytes)
        perform(machine.responseCompleted(now: .now))
    }

    private func writeStreamStart(status: HTTPStatus, headers: HTTPHeaders, responseID: UInt64) {
        guard !isClosed, var request = current, request.core.responseID == responseID else { return }
        let framing: HTTPResponseWriter.Framing = status.forbidsBody ? .none
            : (request.version == .http1_0 ? .untilClose : .chunked)
        let closeRequested = headers.tokens(for: "Connection").contains("close") || framing == .untilClose
        let keepAlive = machine.responseStarted(closeRequested: closeRequested)
        request.framing = framing
        current = request
        sendPlain(writer.head(status: status, headers: headers, framing: framing, keepAlive: keepAlive,
                              requestVersion: request.version, date: HTTPDate.now()))
    }

    private func writeChunk(_ data: Data, responseID: UInt64) {
        guard !isClosed, let request = current, request.core.responseID == responseID,
              let framing = request.framing, framing != .none, !request.isHead else {
            gauge.adjust(by: -data.count)
            return
        }
        sendPlain(framing == .chunked ? writer.chunk(data) : data, counted: data.count)
    }

    private func writeFinish(trailers: HTTPHeaders, responseID: UInt64) {
        guard !isClosed, let request = current, request.core.responseID == responseID else { return }
        if request.framing == .chunked && !request.isHead { sendPlain(writer.lastChunk(trailers: trailers)) }
        current = nil
        perform(machine.responseCompleted(now: .now))
    }
}
