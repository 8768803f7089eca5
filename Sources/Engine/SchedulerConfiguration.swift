/// The scheduler's limits (vLLM names in brackets).
public struct SchedulerConfiguration: Sendable, Equatable {
    /// Most sequences running at once [max_num_seqs].
    public var maxSequenceCount: Int
    /// Most rows (tokens or merged inputs) in one forward pass [max_num_batched_tokens].
    public var maxBatchedTokens: Int
    /// Longest prompt + max_tokens accepted [max_model_len].
    public var maxModelLength: Int
    /// Entries per KV block.
    public var blockSize: Int
    /// Blocks in the KV cache.
    public var blockCount: Int
    /// Whether full prompt blocks are kept and shared between requests [enable_prefix_caching].
    public var enablePrefixCaching: Bool

    public init(maxSequenceCount: Int = 64, maxBatchedTokens: Int = 512, maxModelLength: Int, blockSize: Int = 16, blockCount: Int,
                enablePrefixCaching: Bool = false) {
        self.enablePrefixCaching = enablePrefixCaching
        self.maxSequenceCount = maxSequenceCount
        self.maxBatchedTokens = maxBatchedTokens
        self.maxModelLength = maxModelLength
        self.blockSize = blockSize
        self.blockCount = blockCount
    }

    /// KV entries the whole cache holds.
    public var entryCapacity: Int { blockSize * blockCount }

    /// The first setting out of range.
    public func validate() throws(EngineError) {
        guard maxSequenceCount >= 1 else { throw .invalidConfiguration("max_num_seqs must be >= 1, got \(maxSequenceCount)") }
        guard maxBatchedTokens >= 1 else { throw .invalidConfiguration("max_batched_tokens must be >= 1, got \(maxBatchedTokens)") }
        guard maxModelLength >= 2 else { throw .invalidConfiguration("max_model_len must be >= 2, got \(maxModelLength)") }
        guard blockSize >= 1 else { throw .invalidConfiguration("KV block size must be >= 1, got \(blockSize)") }
        guard blockCount >= 1 else { throw .invalidConfiguration("KV block count must be >= 1, got \(blockCount)") }
    }
}
