import Foundation

/// The operations a responder forwards to its connection (implemented by `ConnectionChannel`, which
/// performs them on its own queue). `responseID` tells stale responders apart from the current one.
protocol ResponseSink: AnyObject, Sendable {
    func deliverFull(_ response: HTTPResponse, responseID: UInt64)
    func deliverStreamStart(status: HTTPStatus, headers: HTTPHeaders, responseID: UInt64)
    /// `data.count` bytes were already added to the gauge by the writer.
    func deliverChunk(_ data: Data, responseID: UInt64)
    func deliverFinish(trailers: HTTPHeaders, responseID: UInt64)
    /// The responder went away unfinished (`started`: whether a stream head was sent), or overflowed.
    func deliverAbort(started: Bool, responseID: UInt64)
}

/// The lock-protected state behind one `HTTPResponder`: which stage the response is in, whether the
/// connection closed first, and the close callbacks. The connection keeps this (not the public
/// responder) so that dropping the responder can be noticed.
final class ResponderCore: @unchecked Sendable {
    enum Stage { case notStarted, streaming, finished }

    let responseID: UInt64
    let gauge: WriteGauge
    let maxOutputBufferBytes: Int
    private weak var sink: (any ResponseSink)?
    private let lock = NSLock()
    private var stage = Stage.notStarted
    private var closed = false
    private var closeCallbacks: [@Sendable () -> Void] = []

    init(responseID: UInt64, sink: any ResponseSink, gauge: WriteGauge, maxOutputBufferBytes: Int) {
        self.responseID = responseID
        self.sink = sink
        self.gauge = gauge
        self.maxOutputBufferBytes = maxOutputBufferBytes
    }

    var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    func send(_ response: HTTPResponse) -> Bool {
        lock.lock()
        guard stage == .notStarted, !closed, let sink else {
            lock.unlock()
            return false
        }
        stage = .finished
        closeCallbacks.removeAll()
        sink.deliverFull(response, responseID: responseID)  // under the lock: keeps calls in order
        lock.unlock()
        return true
    }

    func startStream(status: HTTPStatus, headers: HTTPHeaders) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard stage == .notStarted, !closed, let sink else { return false }
        stage = .streaming
        sink.deliverStreamStart(status: status, headers: headers, responseID: responseID)
        return true
    }

    func write(_ data: Data) -> Bool {
        lock.lock()
        guard stage == .streaming, !closed, let sink else {
            lock.unlock()
            return false
        }
        guard !data.isEmpty else {
            lock.unlock()
            return gauge.isWritable
        }
        if gauge.pendingBytes + data.count > maxOutputBufferBytes {
            // The producer ignored backpressure: refuse to buffer without bound, drop the connection.
            closed = true
            let callbacks = closeCallbacks
            closeCallbacks.removeAll()
            sink.deliverAbort(started: true, responseID: responseID)
            lock.unlock()
            Self.run(callbacks)
            return false
        }
        gauge.adjust(by: data.count)
        sink.deliverChunk(data, responseID: responseID)
        lock.unlock()
        return gauge.isWritable
    }

    func finish(trailers: HTTPHeaders) {
        lock.lock()
        defer { lock.unlock() }
        guard stage == .streaming, !closed, let sink else { return }
        stage = .finished
        closeCallbacks.removeAll()
        sink.deliverFinish(trailers: trailers, responseID: responseID)
    }

    /// The public responder was released: an unanswered request gets 500, a half-sent stream is cut.
    func abandon() {
        lock.lock()
        defer { lock.unlock() }
        guard stage != .finished, !closed, let sink else { return }
        let started = stage == .streaming
        stage = .finished
        sink.deliverAbort(started: started, responseID: responseID)
    }

    func onClose(_ callback: @escaping @Sendable () -> Void) {
        lock.lock()
        if closed {
            lock.unlock()
            DispatchQueue.global().async(execute: callback)
            return
        }
        if stage != .finished { closeCallbacks.append(callback) }
        lock.unlock()
    }

    /// Called by the connection when it closes before this response finished.
    func connectionClosed() {
        lock.lock()
        guard !closed else {
            lock.unlock()
            return
        }
        closed = true
        let callbacks = stage == .finished ? [] : closeCallbacks
        closeCallbacks.removeAll()
        lock.unlock()
        Self.run(callbacks)
    }

    private static func run(_ callbacks: [@Sendable () -> Void]) {
        guard !callbacks.isEmpty else { return }
        DispatchQueue.global().async {
            for callback in callbacks { callback() }
        }
    }
}
