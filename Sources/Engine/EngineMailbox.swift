import Foundation

/// A request handed to the engine thread, with where its events go.
struct Submission: Sendable {
    var request: GenerationRequest
    var onEvent: @Sendable (GenerationEvent) -> Void
    /// Hears the size of each group of tokens taken into the sequence (one per engine iteration that
    /// produced tokens; HAMburger macro steps give several), a final stop token included.
    var onGroup: (@Sendable (Int) -> Void)? = nil
    /// Seed for the request's generator when its parameters name none.
    var fallbackSeed: UInt64
}

/// The one lock between the callers' threads and the engine thread: submissions and cancellations go
/// in, the stats snapshot comes out, and the engine thread sleeps on its condition when idle.
///
/// Every field is touched only with `condition` held.
final class EngineMailbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var submissions: [Submission] = []
    private var cancellations: [Cancellation] = []
    /// Ids submitted and not yet finished.
    private var activeIds: Set<String> = []
    private var isStopping = false
    private var hasStopped = false
    private var stats: EngineStats

    init(stats: EngineStats) {
        self.stats = stats
    }

    /// What the engine thread picks up in one go.
    struct Work {
        var submissions: [Submission]
        var cancellations: [Cancellation]
        var isStopping: Bool
    }

    /// A request to end a sequence, and the reason its `.finished` event will carry.
    struct Cancellation {
        var id: String
        var reason: FinishReason
    }

    /// Queues the submissions, all or none: none when the engine is stopping, an id is in flight
    /// already, or they would take the waiting queue past `maxWaiting`.
    func post(_ batch: [Submission], maxWaiting: Int?) throws(EngineError) {
        condition.lock()
        defer { condition.unlock() }
        guard !isStopping else { throw .engineStopped }
        var ids = Set<String>()
        for submission in batch where activeIds.contains(submission.request.id) || !ids.insert(submission.request.id).inserted {
            throw .duplicateRequestId(submission.request.id)
        }
        if let maxWaiting {
            // Submitted but not running = waiting, whether or not the engine thread has taken them
            // in yet (its published stats lag by up to a forward pass).
            let waiting = max(stats.waitingCount, activeIds.count - stats.runningCount)
            guard waiting + batch.count <= maxWaiting else { throw .overloaded(waitingCount: waiting, limit: maxWaiting) }
        }
        activeIds.formUnion(ids)
        submissions += batch
        condition.signal()
    }

    func postCancellation(_ id: String, reason: FinishReason) {
        condition.lock()
        defer { condition.unlock() }
        guard activeIds.contains(id) else { return }
        cancellations.append(Cancellation(id: id, reason: reason))
        condition.signal()
    }

    /// Takes everything posted; when `blockingWhenIdle`, first sleeps until something is posted.
    func takeWork(blockingWhenIdle: Bool) -> Work {
        condition.lock()
        defer { condition.unlock() }
        while blockingWhenIdle && submissions.isEmpty && cancellations.isEmpty && !isStopping {
            condition.wait()
        }
        let work = Work(submissions: submissions, cancellations: cancellations, isStopping: isStopping)
        submissions = []
        cancellations = []
        return work
    }

    /// Cancellations posted since the last take (checked again right after a forward pass).
    func takeCancellations() -> [Cancellation] {
        condition.lock()
        defer { condition.unlock() }
        let taken = cancellations
        cancellations = []
        return taken
    }

    /// The id may be reused from now on.
    func markFinished(_ id: String) {
        condition.lock()
        activeIds.remove(id)
        condition.unlock()
    }

    func publish(_ snapshot: EngineStats) {
        condition.lock()
        stats = snapshot
        condition.unlock()
    }

    func readStats() -> EngineStats {
        condition.lock()
        defer { condition.unlock() }
        return stats
    }

    func requestStop() {
        condition.lock()
        isStopping = true
        condition.broadcast()
        condition.unlock()
    }

    func markStopped() {
        condition.lock()
        hasStopped = true
        condition.broadcast()
        condition.unlock()
    }

    func waitUntilStopped() {
        condition.lock()
        while !hasStopped { condition.wait() }
        condition.unlock()
    }
}
