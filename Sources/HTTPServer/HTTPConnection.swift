import Foundation

/// The life of one client connection as a value-type state machine: events in, actions out.
///
/// It owns the request parser, assembles complete requests, hands them out one at a time (so that
/// responses to pipelined requests go out in request order), decides keep-alive and closing, and
/// computes every timeout from instants passed in by the caller (the clock is injected; tests use
/// fixed instants). It performs no I/O: the shell executes the returned actions in order and
/// reports what happened (bytes read, output buffer level, response progress, timer ticks).
public struct HTTPConnection: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// What the connection is doing, for observability and tests.
    public enum Phase: Sendable, Equatable {
        case idle, readingHead, readingBody, handling, writing, closing, closed
    }

    /// What the shell must do, in order.
    public enum Action: Sendable, Equatable {
        /// Hand this request to the handler with a fresh responder.
        case dispatch(HTTPRequest)
        /// Write an interim `100 Continue` (the client waits for it before sending the body).
        case sendContinue
        /// Write an error response for this rejection with `Connection: close`; the connection is
        /// now closing.
        case sendRejection(HTTPRequestRejection)
        /// The response in progress can no longer be delivered: tell its responder (`onClose`) and
        /// drop its further output.
        case cancelResponse
        /// Stop reading from the socket for now (too much is queued), or start again.
        case pauseReading, resumeReading
        /// Everything is flushed on a closing connection: shut down the write side (TLS
        /// close_notify, then FIN), keep reading and discarding until the peer closes or the linger
        /// deadline passes.
        case shutdownWrite
        /// Close the socket now. No action follows.
        case close
    }

    struct InFlight: Sendable {
        var started = false
        var keepAlive: Bool
    }

    enum Lifecycle: Sendable, Equatable {
        case open
        /// Closing after the queued output is flushed; `deadline` bounds the flush.
        case closing(deadline: Instant)
        /// Output flushed and write side shut; discarding input until `deadline`.
        case lingering(deadline: Instant)
        case closed
    }

    public let timeouts: HTTPTimeouts
    /// How many complete requests may wait behind the one being handled before reading pauses.
    public let maxQueuedRequests: Int
    let remoteAddress: HTTPSocketAddress?

    var parser: HTTPRequestParser
    var lifecycle: Lifecycle = .open
    var partial: (head: HTTPRequestHead, body: Data)?
    var continueOwed = false
    var ready: [HTTPRequest] = []
    var inFlight: InFlight?
    var pendingRejection: HTTPRequestRejection?
    var readingPaused = false
    var draining = false
    var hasServedRequest = false

    var headStartedAt: Instant?
    var bodyActivityAt: Instant
    var idleSince: Instant
    var outputPending = false
    var lastOutputProgressAt: Instant
    var aboveHighWaterSince: Instant?

    public init(now: Instant, limits: HTTPParserLimits = HTTPParserLimits(), timeouts: HTTPTimeouts = HTTPTimeouts(),
                maxQueuedRequests: Int = 16, remoteAddress: HTTPSocketAddress? = nil) {
        self.parser = HTTPRequestParser(limits: limits)
        self.timeouts = timeouts
        self.maxQueuedRequests = max(1, maxQueuedRequests)
        self.remoteAddress = remoteAddress
        self.bodyActivityAt = now
        self.idleSince = now
        self.lastOutputProgressAt = now
    }

    public var phase: Phase {
        switch lifecycle {
        case .closed: return .closed
        case .closing, .lingering: return .closing
        case .open: break
        }
        if let inFlight { return inFlight.started ? .writing : .handling }
        if partial != nil { return .readingBody }
        if parser.isReadingHead { return .readingHead }
        return outputPending ? .writing : .idle
    }

    /// Whether the socket should be closed (the `.close` action was emitted).
    public var isClosed: Bool { lifecycle == .closed }

    /// Whether the current response may keep the connection open (decided when it starts).
    public var currentResponseKeepsAlive: Bool { inFlight?.keepAlive ?? false }

    // MARK: Input events

    /// Bytes arrived from the peer (plaintext, after TLS).
    public mutating func bytesReceived(_ bytes: Data, now: Instant) -> [Action] {
        guard lifecycle == .open else { return [] }
        var actions: [Action] = []
        for event in parser.feed(bytes) {
            switch event {
            case .head(let head):
                headStartedAt = nil
                partial = (head, Data())
                continueOwed = head.expectsContinue
                bodyActivityAt = now
            case .body(let chunk):
                partial?.body.append(chunk)
                continueOwed = false
                bodyActivityAt = now
            case .end(let trailers):
                if let (head, body) = partial {
                    ready.append(HTTPRequest(head: head, body: body, trailers: trailers, remoteAddress: remoteAddress))
                }
                partial = nil
                continueOwed = false
            case .rejected(let rejection):
                pendingRejection = rejection
            }
        }
        if parser.isReadingHead && headStartedAt == nil { headStartedAt = now }
        advance(now: now, into: &actions)
        return actions
    }

    /// The peer closed its side, or a read or write failed: nothing more can be exchanged.
    public mutating func peerClosed(now: Instant) -> [Action] {
        guard lifecycle != .closed else { return [] }
        var actions: [Action] = inFlight != nil ? [.cancelResponse] : []
        inFlight = nil
        lifecycle = .closed
        actions.append(.close)
        return actions
    }

    /// The handler started the response to the in-flight request (a full one or a stream). Returns
    /// whether the connection stays open after it, which the response head must announce;
    /// `closeRequested` is true when the response itself demands closing (its `Connection: close`,
    /// or a stream to an HTTP/1.0 client, which is delimited by closing).
    public mutating func responseStarted(closeRequested: Bool) -> Bool {
        guard var current = inFlight else { return false }
        current.started = true
        if closeRequested || draining { current.keepAlive = false }
        inFlight = current
        return current.keepAlive
    }

    /// The last byte of the in-flight response was queued for writing.
    public mutating func responseCompleted(now: Instant) -> [Action] {
        guard let current = inFlight, lifecycle == .open else { return [] }
        inFlight = nil
        hasServedRequest = true
        idleSince = now
        bodyActivityAt = now
        var actions: [Action] = []
        if !current.keepAlive || draining {
            enterClosing(now: now, into: &actions)
        } else {
            advance(now: now, into: &actions)
        }
        return actions
    }

    /// The shell's output buffer changed: `pendingBytes` still queued, whether above the high-water
    /// mark, and whether any byte reached the socket since the last report.
    public mutating func outputChanged(pendingBytes: Int, aboveHighWater: Bool, progressed: Bool,
                                       now: Instant) -> [Action] {
        let wasPending = outputPending
        outputPending = pendingBytes > 0
        if progressed || !wasPending { lastOutputProgressAt = now }
        if aboveHighWater {
            if aboveHighWaterSince == nil { aboveHighWaterSince = now }
        } else {
            aboveHighWaterSince = nil
        }
        if !outputPending && wasPending && inFlight == nil { idleSince = now }
        if case .closing = lifecycle, !outputPending {
            lifecycle = .lingering(deadline: now + timeouts.lingerTimeout)
            return [.shutdownWrite]
        }
        return []
    }

    /// The server is draining: finish the current response (announcing `Connection: close`), then
    /// close; an idle connection closes at once.
    public mutating func startDraining(now: Instant) -> [Action] {
        guard lifecycle == .open, !draining else { return [] }
        draining = true
        var actions: [Action] = []
        if inFlight == nil && partial == nil && ready.isEmpty && !parser.isReadingHead {
            enterClosing(now: now, into: &actions)
        }
        return actions
    }

    /// The server is shutting down now: cancel any response in progress and close.
    public mutating func forceClose() -> [Action] {
        guard lifecycle != .closed else { return [] }
        let actions: [Action] = inFlight != nil ? [.cancelResponse, .close] : [.close]
        inFlight = nil
        lifecycle = .closed
        return actions
    }

    // MARK: Internals

    /// Moves the pipeline forward when no request is in flight: the next ready request, else a
    /// pending rejection, else an owed `100 Continue`; then adjusts reading.
    mutating func advance(now: Instant, into actions: inout [Action]) {
        guard lifecycle == .open else { return }
        if inFlight == nil {
            if !ready.isEmpty {
                let request = ready.removeFirst()
                inFlight = InFlight(keepAlive: request.head.wantsKeepAlive && !draining)
                actions.append(.dispatch(request))
            } else if let rejection = pendingRejection {
                pendingRejection = nil
                enterClosing(now: now, into: &actions, rejection: rejection)
                return
            } else if continueOwed, partial != nil {
                continueOwed = false
                bodyActivityAt = now
                actions.append(.sendContinue)
            } else if draining, partial == nil, !parser.isReadingHead {
                enterClosing(now: now, into: &actions)
                return
            }
        }
        let shouldPause = ready.count >= maxQueuedRequests || pendingRejection != nil
        if shouldPause != readingPaused {
            readingPaused = shouldPause
            actions.append(shouldPause ? .pauseReading : .resumeReading)
        }
    }

    /// Starts closing: optionally queue an error response, then flush, shut down writing, linger.
    mutating func enterClosing(now: Instant, into actions: inout [Action], rejection: HTTPRequestRejection? = nil) {
        ready.removeAll()
        partial = nil
        pendingRejection = nil
        if readingPaused {
            readingPaused = false
            actions.append(.resumeReading)  // keep reading (and discarding) to see the peer close
        }
        if let rejection {
            actions.append(.sendRejection(rejection))
            outputPending = true  // the shell reports the real level right after writing it
        }
        if outputPending {
            lifecycle = .closing(deadline: now + timeouts.writeTimeout)
        } else {
            lifecycle = .lingering(deadline: now + timeouts.lingerTimeout)
            actions.append(.shutdownWrite)
        }
    }
}
