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
    /// Full prompt blocks kept for reuse (nil: prefix caching off).
    public internal(set) var prefixCache: PrefixCache?
    /// Prompt tokens looked up in the prefix cache at admissions, and those found (vLLM's counters).
    public internal(set) var prefixCacheQueriedTokens = 0
    public internal(set) var prefixCacheHitTokens = 0

    public init(configuration: SchedulerConfiguration, endOfSequenceTokenIds: [Int32]) {
        self.configuration = configuration
        self.endOfSequenceTokenIds = endOfSequenceTokenIds
        allocator = BlockAllocator(blockCount: configuration.blockCount)
        if configuration.enablePrefixCaching { prefixCache = PrefixCache(blockSize: configuration.blockSize) }
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

    /// Checks what the scheduler's limits decide: a prompt, a positive max_tokens, the `max_model_len`
    /// limit and that the sequence fits in the whole cache. `InferenceEngine.validate` calls it on the
    /// caller's thread; `add` then trusts the request.
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

    /// Queues a request at the back. The request passed `validate` (the engine checks it at submission).
    public mutating func add(_ request: GenerationRequest) throws(EngineError) {
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
    /// block held by as many tables (and the prefix cache) as its reference count, used = blocks held,
    /// queues consistent.
    public func invariantViolations() -> [String] {
        var problems = allocator.invariantViolations()
        var holders: [Int32: Int] = [:]
        for block in prefixCache?.heldBlocks ?? [] { holders[block, default: 0] += 1 }
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
            problems.append("\(allocator.usedCount) blocks used but \(holders.count) held by sequences and the prefix cache")
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

    /// Cached blocks that only the prefix cache holds: in memory, but free to take back.
    public var evictableBlockCount: Int { prefixCache?.evictableCount(in: allocator) ?? 0 }
    /// Blocks requests hold (the KV usage that matters: evictable cached blocks are not counted).
    public var blocksInUse: Int { allocator.usedCount - evictableBlockCount }
    /// Blocks a reservation can get: free ones plus evictable cached ones.
    var availableBlockCount: Int { allocator.freeCount + evictableBlockCount }

    /// Takes the blocks `rows` more entries of `sequence` need, evicting least recently used cached
    /// blocks first when too few are free. All or nothing.
    mutating func reserve(_ sequence: inout GenerationSequence, rows: Int) -> Bool {
        let needed = sequence.blockTable.newBlocksNeeded(forAdditionalEntries: rows)
        if needed > allocator.freeCount, prefixCache != nil {
            guard needed <= availableBlockCount else { return false }
            prefixCache!.evict(needed - allocator.freeCount, allocator: &allocator)
        }
        return sequence.blockTable.reserve(additionalEntries: rows, from: &allocator)
    }

    /// A sequence about to be admitted with nothing in the cache takes the cached blocks of its
    /// prompt's leading full blocks (at least one prompt token is always left to run, for its logits).
    /// Returns the prompt tokens covered.
    mutating func adoptCachedPrefix(_ sequence: inout GenerationSequence) -> Int {
        // Prompt logprobs need every prompt row computed, so such a request takes nothing from the cache.
        guard prefixCache != nil, sequence.entryCount == 0, sequence.blockTable.blocks.isEmpty,
              sequence.request.promptLogprobs == nil else { return 0 }
        let blockSize = configuration.blockSize
        let blocks = prefixCache!.match(sequence.request.promptTokenIds, maxBlocks: (sequence.promptTokenCount - 1) / blockSize,
                                        allocator: &allocator)
        sequence.blockTable.adopt(shared: blocks)
        sequence.promptBlocksOffered = blocks.count
        return blocks.count * blockSize
    }

    /// Offers the prefix cache the sequence's full prompt blocks written since the last offer.
    mutating func offerPromptBlocks(_ sequence: inout GenerationSequence) {
        guard prefixCache != nil else { return }
        let blockSize = configuration.blockSize
        let full = min(sequence.entryCount, sequence.promptTokenCount) / blockSize
        guard full > sequence.promptBlocksOffered else { return }
        let prompt = sequence.request.promptTokenIds
        let hashes = PrefixCache.chainedHashes(of: prompt, blockSize: blockSize, blockCount: full)
        for b in sequence.promptBlocksOffered ..< full {
            prefixCache!.insert(prompt, blockIndex: b, block: sequence.blockTable.blocks[b], hash: hashes[b], allocator: &allocator)
        }
        sequence.promptBlocksOffered = full
    }
}
