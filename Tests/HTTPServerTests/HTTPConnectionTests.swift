import Foundation
import Testing
@testable import HTTPServer

/// The connection state machine driven by hand with a fake clock: `t0` plus offsets, no sleeping.
@Suite struct HTTPConnectionTests {
    let t0 = ContinuousClock.now
    let timeouts = HTTPTimeouts(headerTimeout: .seconds(10), bodyTimeout: .seconds(20), keepAliveTimeout: .seconds(30),
                                writeTimeout: .seconds(40), writeStallTimeout: .seconds(50), lingerTimeout: .seconds(2))

    func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }

    func makeConnection() -> HTTPConnection {
        HTTPConnection(now: t0, timeouts: timeouts, maxQueuedRequests: 2)
    }

    func dispatched(_ actions: [HTTPConnection.Action]) -> [String] {
        actions.compactMap { if case .dispatch(let request) = $0 { return request.target } else { return nil } }
    }

    func data(_ text: String) -> Data { Data(text.utf8) }

    @Test func requestIsDispatchedAndKeepAliveContinues() {
        var connection = makeConnection()
        #expect(connection.phase == .idle)
        var actions = connection.bytesReceived(data("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), now: at(1))
        #expect(dispatched(actions) == ["/a"])
        #expect(connection.phase == .handling)
        #expect(connection.nextDeadline == nil)  // no timeout while the handler works
        let keepAlive = connection.responseStarted(closeRequested: false)
        #expect(keepAlive)
        #expect(connection.phase == .writing)
        actions = connection.responseCompleted(now: at(2))
        #expect(actions.isEmpty)
        #expect(connection.phase == .idle)
        #expect(connection.nextDeadline == at(32))  // keep-alive timeout from the response
    }

    @Test func pipelinedRequestsAreDispatchedOneAtATimeInOrder() {
        var connection = makeConnection()
        let actions = connection.bytesReceived(
            data("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n"), now: at(0))
        #expect(dispatched(actions) == ["/1"])
        #expect(actions.contains(.pauseReading))  // two requests wait: the queue bound is 2
        _ = connection.responseStarted(closeRequested: false)
        let second = connection.responseCompleted(now: at(1))
        #expect(dispatched(second) == ["/2"])
        #expect(second.contains(.resumeReading))
        _ = connection.responseStarted(closeRequested: false)
        #expect(dispatched(connection.responseCompleted(now: at(2))) == ["/3"])
    }

    @Test func connectionCloseEndsAfterTheResponse() {
        var connection = makeConnection()
        _ = connection.bytesReceived(data("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: x\r\n\r\n"),
                                     now: at(0))
        #expect(connection.responseStarted(closeRequested: false) == false)
        let actions = connection.responseCompleted(now: at(1))
        #expect(actions == [.shutdownWrite])  // nothing pending: shut down and linger
        #expect(connection.phase == .closing)
        #expect(connection.tick(now: at(2.9)).isEmpty)
        #expect(connection.tick(now: at(3)) == [.close])  // linger over
        #expect(connection.isClosed)
    }

    @Test func http10ClosesUnlessKeepAlive() {
        var connection = makeConnection()
        _ = connection.bytesReceived(data("GET / HTTP/1.0\r\n\r\n"), now: at(0))
        #expect(connection.responseStarted(closeRequested: false) == false)
        var keepAlive = makeConnection()
        _ = keepAlive.bytesReceived(data("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), now: at(0))
        #expect(keepAlive.responseStarted(closeRequested: false) == true)
    }

    @Test func slowHeadersGet408() {
        var connection = makeConnection()
        _ = connection.bytesReceived(data("GET / HTTP/1.1\r\n"), now: at(5))
        #expect(connection.phase == .readingHead)
        #expect(connection.nextDeadline == at(15))  // from the first byte
        _ = connection.bytesReceived(data("X-Slow: 1\r\n"), now: at(14))  // trickling does not extend it
        #expect(connection.tick(now: at(14.9)).isEmpty)
        let actions = connection.tick(now: at(15))
        guard case .sendRejection(let rejection)? = actions.first else { Issue.record("no 408"); return }
        #expect(rejection.status == .requestTimeout)
        #expect(connection.phase == .closing)
        // The shell writes the 408, then reports the flush.
        #expect(connection.outputChanged(pendingBytes: 100, aboveHighWater: false, progressed: false, now: at(15)).isEmpty)
        #expect(connection.outputChanged(pendingBytes: 0, aboveHighWater: false, progressed: true, now: at(15.1)) == [.shutdownWrite])
        #expect(connection.peerClosed(now: at(15.2)) == [.close])
    }

    @Test func stalledBodyGets408() {
        var connection = makeConnection()
        _ = connection.bytesReceived(data("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345"), now: at(0))
        #expect(connection.phase == .readingBody)
        #expect(connection.nextDeadline == at(20))
        _ = connection.bytesReceived(data("67"), now: at(15))
        #expect(connection.nextDeadline == at(35))
        guard case .sendRejection(let rejection)? = connection.tick(now: at(35)).first else { Issue.record("no 408"); return }
        #expect(rejection.status == .requestTimeout)
    }

    @Test func idleConnectionsCloseQuietly() {
        var fresh = makeConnection()
        #expect(fresh.nextDeadline == at(10))  // a silent new connection: the header timeout
        #expect(fresh.tick(now: at(10)) == [.close])

        var kept = makeConnection()
        _ = kept.bytesReceived(data("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), now: at(1))
        _ = kept.responseStarted(closeRequested: false)
        _ = kept.outputChanged(pendingBytes: 50, aboveHighWater: false, progressed: false, now: at(2))
        _ = kept.responseCompleted(now: at(2))
        #expect(kept.phase == .writing)  // still flushing: no idle timeout yet
        _ = kept.outputChanged(pendingBytes: 0, aboveHighWater: false, progressed: true, now: at(3))
        #expect(kept.nextDeadline == at(33))
        #expect(kept.tick(now: at(32)).isEmpty)
        #expect(kept.tick(now: at(33)) == [.close])
    }

    @Test func writeStallAboveHighWaterCancelsAndCloses() {
        var connection = makeConnection()
        _ = connection.bytesReceived(data("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), now: at(0))
        _ = connection.responseStarted(closeRequested: false)
        // Output keeps trickling (progress), but stays above the high-water mark.
        for second in 1...49 {
            _ = connection.outputChanged(pendingBytes: 1_000_000, aboveHighWater: true, progressed: true, now: at(Double(second)))
            #expect(connection.tick(now: at(Double(second))).isEmpty)
        }
        #expect(connection.tick(now: at(51)) == [.cancelResponse, .close])
    }

    @Test func noWriteProgressCancelsAndCloses() {
        var connection = makeConnection()
        _ = connection.bytesReceived(data("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), now: at(0))
        _ = connection.responseStarted(closeRequested: false)
        _ = connection.outputChanged(pendingBytes: 10, aboveHighWater: false, progressed: false, now: at(1))
        #expect(connection.nextDeadline == at(41))
        #expect(connection.tick(now: at(41)) == [.cancelResponse, .close])
    }

    @Test func peerCloseCancelsTheResponseInProgress() {
        var connection = makeConnection()
        _ = connection.bytesReceived(data("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), now: at(0))
        #expect(connection.peerClosed(now: at(1)) == [.cancelResponse, .close])
        #expect(connection.phase == .closed)
        #expect(connection.bytesReceived(data("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), now: at(2)).isEmpty)
    }

    @Test func rejectionWaitsForTheResponseInFlight() {
        var connection = makeConnection()
        let actions = connection.bytesReceived(data("GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n"), now: at(0))
        #expect(dispatched(actions) == ["/ok"])
        #expect(actions.contains(.pauseReading))
        #expect(!actions.contains { if case .sendRejection = $0 { return true } else { return false } })
        _ = connection.responseStarted(closeRequested: false)
        let after = connection.responseCompleted(now: at(1))
        guard case .sendRejection(let rejection)? = after.first(where: { if case .sendRejection = $0 { return true } else { return false } })
        else { Issue.record("no 400"); return }
        #expect(rejection.status == .badRequest)
    }

    @Test func continueIsSentOnlyWhenTheRequestIsNext() {
        var connection = makeConnection()
        let first = connection.bytesReceived(data("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /2 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"), now: at(0))
        #expect(!first.contains(.sendContinue))  // /1 still owes its response
        _ = connection.responseStarted(closeRequested: false)
        #expect(connection.responseCompleted(now: at(1)) == [.sendContinue])
        #expect(dispatched(connection.bytesReceived(data("abc"), now: at(2))) == ["/2"])
    }

    @Test func drainingClosesIdleAndAnnouncesCloseOnBusy() {
        var idle = makeConnection()
        #expect(idle.startDraining(now: at(0)) == [.shutdownWrite])
        var busy = makeConnection()
        _ = busy.bytesReceived(data("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), now: at(0))
        #expect(busy.startDraining(now: at(1)).isEmpty)
        #expect(busy.responseStarted(closeRequested: false) == false)
        #expect(busy.responseCompleted(now: at(2)) == [.shutdownWrite])
    }

    @Test func forceCloseCancels() {
        var connection = makeConnection()
        _ = connection.bytesReceived(data("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), now: at(0))
        #expect(connection.forceClose() == [.cancelResponse, .close])
        #expect(connection.forceClose().isEmpty)
    }
}
