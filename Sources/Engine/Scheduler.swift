import DequeModule
import KVCache

/// The continuous-batching scheduler: a value-type state machine that owns the sequences and the KV
/// block allocator and decides, per engine iteration, which rows run. No I/O, no clock, no model.
///
/// Events in: `add` (a validated request joins the back of the queue), `cancel` (frees its blocks at
/// once), `schedule` (returns a `SchedulePlan` and reserves the blocks it needs), `complete` (the pass
/// ran and these tokens were sampled: count the entries, append the tokens, finish and free).
/// Rules per iteration (see `schedule()`): running sequences first, decode rows before prefill
/// chunks, oldest first; then FCFS admission while blocks, `maxBatchedTokens` and `maxSequenceCount`
/// allow; a running sequence that needs a block when none is free preempts the most recently admitted
/// sequence by recompute.
public struct Scheduler: Sendable {
    public let configuration: SchedulerConfiguration
    /// The model's end-of-sequence ids, stop tokens unless a request ignores them.
    public let endOfSequenceTokenIds: [Int32]
    public internal(set) var allocator: BlockAllocator
    var sequences: [String: GenerationSequence] = [:]
    /// Not admitted (new or preempted), in admission order.
    var waiting: Deque<String> = []
    /// Admitted, oldest admission first.
    var running: [String] = []
    var admissionCounter = 0
    /// Preemptions since the start.
    public internal(set) var preemptionCount = 0

    public init(configuration: SchedulerConfiguration, endOfSequenceTokenIds: [Int32]) {
        self.configuration = configuration
        self.endOfSequenceTokenIds = endOfSequenceTokenIds
        allocator = BlockAllocator(blockCount: configuration.blockCount)
    }

    public var waitingCount: Int { waiting.count }
    public var runningCount: Int { running.count }
    public var waitingIds: [String] { Array(waiting) }
    public var runningIds: [String] { running }
    /// Whether nothing is queued or running.
    public var isIdle: Bool { waiting.isEmpty && running.isEmpty }
    public func sequence(_ id: String) -> GenerationSequence? { sequences[id] }
    public func contains(_ id: String) -> Bool { sequences[id] != nil }

    /// KV entries a request may need at most: every prompt token, and every generated token but the
    /// last one (which is never fed back).
    public static func maxEntries(for request: GenerationRequest) -> Int {
        request.promptTokenIds.count + request.maxTokens - 1
    }

    /// Checks what the scheduler can judge: a prompt, a positive max_tokens, the `max_model_len` limit
    /// and that the sequence fits in the whole cache.
    public func validate(_ request: GenerationRequest) throws(EngineError) {
        try Self.validate(request, configuration: configuration)
    }

    /// `validate(_:)` without a scheduler, for checking on the caller's thread.
    public static func validate(_ request: GenerationRequest, configuration: SchedulerConfiguration) throws(EngineError) {
        let prompt = request.promptTokenIds.count
        guard prompt > 0 else { throw .emptyPrompt(requestId: request.id) }
        guard request.maxTokens >= 1 else { throw .invalidMaxTokens(requestId: request.id, maxTokens: request.maxTokens) }
        guard prompt + request.maxTokens <= configuration.maxModelLength else {
            throw .exceedsMaxModelLength(
                requestId: request.id, promptTokens: prompt, maxTokens: request.maxTokens,
                maxModelLength: configuration.maxModelLength)
        }
        let entries = Self.maxEntries(for: request)
        guard entries <= configuration.entryCapacity else {
            throw .exceedsKVCapacity(requestId: request.id, entriesNeeded: entries, entryCapacity: configuration.entryCapacity)
        }
    }

    /// Queues a request at the back.
    public mutating func add(_ request: GenerationRequest) throws(EngineError) {
        try validate(request)
        guard sequences[request.id] == nil else { throw .duplicateRequestId(request.id) }
        sequences[request.id] = GenerationSequence(
            request: request, endOfSequenceTokenIds: endOfSequenceTokenIds, blockSize: configuration.blockSize)
        waiting.append(request.id)
    }

    /// Ends a sequence wherever it is and frees its blocks now. Returns it (status `.finished(reason)`),
    /// or nil when the id is unknown or already finished.
    @discardableResult
    public mutating func cancel(_ id: String, reason: FinishReason = .abort) -> GenerationSequence? {
        guard var sequence = sequences.removeValue(forKey: id) else { return nil }
        releaseBlocks(of: &sequence)
        running.removeAll { $0 == id }
        waiting.removeAll { $0 == id }
        sequence.status = .finished(reason)
        return sequence
    }

    mutating func releaseBlocks(of sequence: inout GenerationSequence) {
        do {
            try sequence.blockTable.release(into: &allocator)
        } catch {
            assertionFailure("scheduler lost track of KV blocks: \(error)")
        }
    }

    /// Broken bookkeeping, described (empty when all holds): the allocator's own invariants, every held
    /// block held by as many tables as its reference count, used = blocks held, queues consistent.
    public func invariantViolations() -> [String] {
        var problems = allocator.invariantViolations()
        var holders: [Int32: Int] = [:]
        for sequence in sequences.values {
            for block in sequence.blockTable.blocks { holders[block, default: 0] += 1 }
            if sequence.blockTable.entryCount > sequence.entryInputs.count {
                problems.append("\(sequence.id) holds more entries than inputs")
            }
        }
        for (block, count) in holders where allocator.referenceCount(of: block) != count {
            problems.append("block \(block) is in \(count) tables but has \(allocator.referenceCount(of: block)) references")
        }
        if holders.count != allocator.usedCount {
            problems.append("\(allocator.usedCount) blocks used but \(holders.count) held by sequences")
        }
        for id in running where sequences[id]?.status != .running { problems.append("\(id) is in the running list but not running") }
        for id in waiting {
            guard let sequence = sequences[id] else { problems.append("\(id) is queued but unknown"); continue }
            if sequence.status != .waiting && sequence.status != .preempted { problems.append("\(id) is queued but \(sequence.status)") }
            if !sequence.blockTable.blocks.isEmpty { problems.append("\(id) is queued but holds blocks") }
        }
        if running.count + waiting.count != sequences.count { problems.append("sequences not all queued or running") }
        return problems
    }
}

extension Scheduler {
    /// KV entries written, over all sequences.
    public var heldEntryCount: Int { running.reduce(0) { $0 + (sequences[$1]?.entryCount ?? 0) } }
}
