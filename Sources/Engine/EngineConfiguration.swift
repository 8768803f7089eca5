import Dispatch
import KVCache

/// What the operator sets for the engine (as opposed to what the model file says).
public struct EngineConfiguration: Sendable {
    /// Most sequences running at once [max_num_seqs].
    public var maxSequenceCount: Int = 64
    /// Most rows per forward pass [max_num_batched_tokens].
    public var maxBatchedTokens: Int = 512
    /// Longest prompt + max_tokens accepted; nil = the model's context length.
    public var maxModelLength: Int?
    /// Entries per KV block.
    public var kvBlockSize: Int = 16
    /// Size of the KV cache (K and V, all layers).
    public var kvCapacity: KVCacheCapacity = .bytes(512 << 20)
    /// How the KV pages store each element; the 16-bit types fit twice the blocks in the same bytes.
    public var kvElementType: KVElementType = .float32
    /// Keep full prompt blocks after their request ends and share them with later requests whose
    /// prompts start the same way [enable_prefix_caching]; evicted least recently used when memory is needed.
    public var enablePrefixCaching = true
    /// Most requests waiting (submitted, not yet running) before `submit` throws `.overloaded`
    /// [max_queued_requests]; nil = no bound.
    public var maxWaitingRequests: Int?
    /// Called on the engine thread after every iteration (metrics, benchmarks); must return quickly.
    public var iterationObserver: (@Sendable (IterationReport) -> Void)?
    /// Monotonic clock in nanoseconds, for iteration timing; injected so tests can fix it.
    public var clock: @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }
    /// Name of the engine thread (shows in debuggers and `top -H`).
    public var threadName: String = "hamburger-engine"

    public init(
        maxSequenceCount: Int = 64, maxBatchedTokens: Int = 512, maxModelLength: Int? = nil, kvBlockSize: Int = 16,
        kvCapacity: KVCacheCapacity = .bytes(512 << 20), kvElementType: KVElementType = .float32
    ) {
        self.maxSequenceCount = maxSequenceCount
        self.maxBatchedTokens = maxBatchedTokens
        self.maxModelLength = maxModelLength
        self.kvBlockSize = kvBlockSize
        self.kvCapacity = kvCapacity
        self.kvElementType = kvElementType
    }
}
