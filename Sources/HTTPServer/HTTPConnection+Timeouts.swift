/// Deadlines: which timeout applies in the current state, and what happens when it passes.
extension HTTPConnection {
    enum Deadline: Sendable, Equatable {
        /// Closing took too long to flush, or lingering ended: close.
        case closeNow
        /// Output above the high-water mark too long, or no write progress: give up on the peer.
        case writeStalled
        /// Request head incomplete too long (slowloris): 408.
        case headerTimeout
        /// Request body stalled: 408.
        case bodyTimeout
        /// Nothing to do for too long: close quietly.
        case idle
    }

    /// The earliest instant at which `tick` would act, or nil when no timeout applies (for example
    /// while the handler works on a request and output flows).
    public var nextDeadline: Instant? {
        pendingDeadlines.map(\.at).min()
    }

    /// The clock reached `now`: acts on every deadline that has passed.
    public mutating func tick(now: Instant) -> [Action] {
        guard let due = pendingDeadlines.filter({ $0.at <= now }).min(by: { $0.at < $1.at }) else { return [] }
        var actions: [Action] = []
        switch due.kind {
        case .closeNow:
            if inFlight != nil { actions.append(.cancelResponse) }
            inFlight = nil
            lifecycle = .closed
            actions.append(.close)
        case .writeStalled:
            if inFlight != nil { actions.append(.cancelResponse) }
            inFlight = nil
            lifecycle = .closed
            actions.append(.close)
        case .headerTimeout:
            enterClosing(now: now, into: &actions, rejection: HTTPRequestRejection(
                .requestTimeout, "The request head did not arrive within \(timeouts.headerTimeout)."))
        case .bodyTimeout:
            enterClosing(now: now, into: &actions, rejection: HTTPRequestRejection(
                .requestTimeout, "The request body stalled for \(timeouts.bodyTimeout)."))
        case .idle:
            lifecycle = .closed
            actions.append(.close)
        }
        return actions
    }

    /// Every deadline that applies now.
    var pendingDeadlines: [(at: Instant, kind: Deadline)] {
        var deadlines: [(at: Instant, kind: Deadline)] = []
        switch lifecycle {
        case .closed:
            return []
        case .closing(let deadline), .lingering(let deadline):
            deadlines.append((deadline, .closeNow))
            if aboveHighWaterSince == nil, outputPending {
                deadlines.append((lastOutputProgressAt + timeouts.writeTimeout, .writeStalled))
            }
            return deadlines
        case .open:
            break
        }
        if let since = aboveHighWaterSince {
            deadlines.append((since + timeouts.writeStallTimeout, .writeStalled))
        }
        if outputPending {
            deadlines.append((lastOutputProgressAt + timeouts.writeTimeout, .writeStalled))
        }
        guard inFlight == nil, pendingRejection == nil else { return deadlines }
        if let started = headStartedAt {
            deadlines.append((started + timeouts.headerTimeout, .headerTimeout))
        } else if partial != nil, !continueOwed {
            deadlines.append((bodyActivityAt + timeouts.bodyTimeout, .bodyTimeout))
        } else if partial == nil, ready.isEmpty, !outputPending {
            let limit = hasServedRequest ? timeouts.keepAliveTimeout : timeouts.headerTimeout
            deadlines.append((idleSince + limit, .idle))
        }
        return deadlines
    }
}
