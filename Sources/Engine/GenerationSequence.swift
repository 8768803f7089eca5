import KVCache

/// Where a sequence is in its life.
public enum SequenceStatus: Sendable, Equatable {
    /// Submitted, not yet admitted.
    case waiting
    /// Admitted: holds KV blocks and gets rows in iterations.
    case running
    /// Was running, lost its blocks to a preemption; back at the front of the queue, to be recomputed.
    case preempted
    case finished(FinishReason)

    public var isFinished: Bool {
        if case .finished = self { return true }
        return false
    }
}

/// One request's run state inside the scheduler: status, generated tokens, the inputs of its KV
/// entries with their RoPE positions, and its block table.
///
/// The KV history is `entryInputs` (prompt tokens, then one input per generation step); the first
/// `blockTable.entryCount` of them are in the cache, the rest are pending rows. After a preemption the
/// count drops to 0 and the whole history is recomputed as a prefill, so no generated token is lost.
public struct GenerationSequence: Sendable {
    public let request: GenerationRequest
    public internal(set) var status: SequenceStatus = .waiting
    /// Every generated token, a final stop token included.
    public internal(set) var outputTokenIds: [Int32] = []
    /// Input of each KV entry, written or pending.
    public internal(set) var entryInputs: [EntryInput]
    /// RoPE position of each entry input (the flat position of its last token).
    public internal(set) var entryPositions: [Int32]
    public internal(set) var blockTable: BlockTable
    /// Order of the latest admission (higher = admitted more recently); the preemption victim is the highest.
    public internal(set) var admissionStamp: Int = -1
    /// Times this sequence was preempted.
    public internal(set) var preemptionCount: Int = 0
    /// Stop tokens in force: the request's plus the model's end-of-sequence ids unless ignored.
    public let stopTokenIds: Set<Int32>
    /// Prompt tokens whose KV entries came from the prefix cache at the first admission.
    public internal(set) var cachedPromptTokenCount = 0
    /// Leading full prompt blocks already offered to the prefix cache (their entries are written).
    var promptBlocksOffered = 0

    init(request: GenerationRequest, endOfSequenceTokenIds: [Int32], blockSize: Int) {
        self.request = request
        entryInputs = request.promptTokenIds.map { .token($0) }
        entryPositions = (0 ..< request.promptTokenIds.count).map { Int32($0) }
        blockTable = BlockTable(blockSize: blockSize)
        var stops = Set(request.stopTokenIds)
        if !request.ignoresEndOfSequence { stops.formUnion(endOfSequenceTokenIds) }
        stopTokenIds = stops
    }

    public var id: String { request.id }
    public var promptTokenCount: Int { request.promptTokenIds.count }
    /// Tokens it may still generate: the one place `maxTokens` is enforced (the scheduler cuts there,
    /// the HAMburger micro loop stops there).
    public var remainingTokenCount: Int { max(0, request.maxTokens - outputTokenIds.count) }
    /// KV entries written.
    public var entryCount: Int { blockTable.entryCount }
    /// Entry inputs not yet in the cache (rows still to run).
    public var pendingEntryCount: Int { entryInputs.count - blockTable.entryCount }
    /// Whether the prompt (or a recompute) still has more than the one newest input to run.
    public var isPrefilling: Bool { pendingEntryCount > 1 }
    /// RoPE position of the newest token (of the newest entry input).
    public var ropePosition: Int32 { entryPositions.last ?? -1 }
    /// Every token of the sequence: prompt then generated.
    public var tokenIds: [Int32] { request.promptTokenIds + outputTokenIds }
}
