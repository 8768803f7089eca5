import Foundation

/// The count of output bytes a connection has accepted but not yet written to its socket, shared
/// between the connection's queue and the threads that stream responses.
///
/// It is how backpressure travels: writers add what they queue, the connection subtracts what the
/// socket took; crossing the high-water mark upward makes writes report "slow down", falling to the
/// low-water mark wakes `waitUntilWritable` callers and runs `onWritable` callbacks.
final class WriteGauge: @unchecked Sendable {
    let highWaterBytes: Int
    let lowWaterBytes: Int
    private let condition = NSCondition()
    private var pending = 0
    private var closed = false
    private var writableCallbacks: [@Sendable () -> Void] = []

    init(highWaterBytes: Int, lowWaterBytes: Int) {
        self.highWaterBytes = max(1, highWaterBytes)
        self.lowWaterBytes = max(0, min(lowWaterBytes, highWaterBytes))
    }

    var pendingBytes: Int {
        condition.lock()
        defer { condition.unlock() }
        return pending
    }

    var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }

    /// Whether a writer may go on without waiting: open and at or below the high-water mark.
    var isWritable: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !closed && pending <= highWaterBytes
    }

    /// Adds (or, negative, removes) queued bytes; wakes waiters when the level falls to low water.
    func adjust(by delta: Int) {
        guard delta != 0 else { return }
        condition.lock()
        let before = pending
        pending = max(0, pending + delta)
        var callbacks: [@Sendable () -> Void] = []
        if before > lowWaterBytes && pending <= lowWaterBytes {
            condition.broadcast()
            callbacks = writableCallbacks
            writableCallbacks.removeAll()
        }
        condition.unlock()
        Self.run(callbacks)
    }

    /// The connection closed: wake every waiter (they see "not writable") and drop callbacks.
    func close() {
        condition.lock()
        closed = true
        writableCallbacks.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until the level is at or below low water (true), or the gauge closes or `timeout`
    /// passes (false).
    func waitUntilWritable(timeout: Duration) -> Bool {
        let components = timeout.components
        let seconds = Double(components.seconds) + Double(components.attoseconds) / 1e18
        let deadline = Date(timeIntervalSinceNow: max(0, seconds))
        condition.lock()
        defer { condition.unlock() }
        if !closed && pending <= highWaterBytes { return true }
        while !closed && pending > lowWaterBytes {
            if !condition.wait(until: deadline) { break }
        }
        return !closed && pending <= highWaterBytes
    }

    /// Runs `callback` once (on a global queue) when the level falls to low water; at once if the
    /// writer may already go on. Dropped if the connection closes first.
    func onWritable(_ callback: @escaping @Sendable () -> Void) {
        condition.lock()
        if closed {
            condition.unlock()
            return
        }
        if pending <= highWaterBytes {
            condition.unlock()
            Self.run([callback])
            return
        }
        writableCallbacks.append(callback)
        condition.unlock()
    }

    private static func run(_ callbacks: [@Sendable () -> Void]) {
        guard !callbacks.isEmpty else { return }
        DispatchQueue.global().async {
            for callback in callbacks { callback() }
        }
    }
}
