import Foundation

/// The handle through which a handler answers one request: a whole response with `send(_:)`, or a
/// stream with `startStream`, `write`, `finish`.
///
/// Thread-safe and usable from any thread, at any later time (for example from an engine's callback
/// thread); calls from one thread take effect in order. Misuse (a second response, writing before
/// `startStream` or after `finish`) is ignored, never a crash.
///
/// Disconnects: `onClose` callbacks run (once, on a Dispatch global queue) when the connection
/// closes before this response is finished — the peer closed or reset the connection, a timeout
/// fired, the output overflowed, or the server shut down — so the caller can cancel the work behind
/// it. `isClosed` reports the same. A peer's close is noticed at once, since the connection keeps
/// reading while the handler works.
///
/// Backpressure: `write` returns false when the connection's queued output is above its high-water
/// mark (or the data was not accepted); a producer should then wait with `waitUntilWritable` (which
/// blocks the calling thread: use it on a producer's own thread) or register `onWritable` (which
/// never blocks). A stream write that would push the queue past the hard cap closes the
/// connection. A responder dropped without a response answers `500` (or, mid-stream, closes the
/// connection, so the client sees a truncated body rather than a falsely complete one).
public final class HTTPResponder: Sendable {
    let core: ResponderCore

    init(core: ResponderCore) {
        self.core = core
    }

    deinit {
        core.abandon()
    }

    /// Sends a complete response. Returns false if a response was already begun or the connection
    /// is closed.
    @discardableResult
    public func send(_ response: HTTPResponse) -> Bool {
        core.send(response)
    }

    /// Starts a streamed response (`Transfer-Encoding: chunked` for HTTP/1.1; for HTTP/1.0 the body
    /// ends when the connection closes). Returns false if a response was already begun or the
    /// connection is closed.
    @discardableResult
    public func startStream(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> Bool {
        core.startStream(status: status, headers: headers)
    }

    /// Queues one piece of the streamed body (empty data is ignored). Returns true while the writer
    /// may go on; false when it should slow down (above the high-water mark) or when the data was
    /// not accepted (no stream started, already finished, or closed: see `isClosed`).
    @discardableResult
    public func write(_ data: Data) -> Bool {
        core.write(data)
    }

    /// Ends the streamed response (with optional trailer fields for chunked streams).
    public func finish(trailers: HTTPHeaders = HTTPHeaders()) {
        core.finish(trailers: trailers)
    }

    /// Whether the connection closed before this response was finished.
    public var isClosed: Bool { core.isClosed }

    /// Whether a `write` now would be within the high-water mark.
    public var isWritable: Bool { core.gauge.isWritable && !core.isClosed }

    /// Registers a callback for the connection closing before this response is finished. Runs once,
    /// on a Dispatch global queue; runs promptly if already closed; never runs once the response is
    /// finished.
    public func onClose(_ callback: @escaping @Sendable () -> Void) {
        core.onClose(callback)
    }

    /// Blocks the calling thread until queued output falls to the low-water mark (true), or the
    /// connection closes or `timeout` passes (false). Returns at once when already writable.
    public func waitUntilWritable(timeout: Duration) -> Bool {
        core.gauge.waitUntilWritable(timeout: timeout)
    }

    /// Runs `callback` once, on a Dispatch global queue, when queued output falls to the low-water
    /// mark (at once if already writable). Dropped if the connection closes first (`onClose` runs).
    public func onWritable(_ callback: @escaping @Sendable () -> Void) {
        core.gauge.onWritable(callback)
    }
}
