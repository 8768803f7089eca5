/// Everything that can go wrong in the KV cache's bookkeeping or configuration.
///
/// Block ids come from the allocator itself, so most cases here mean a caller broke the ownership
/// rules (freed a block twice, used an id it never got); they are errors rather than traps so that a
/// server can report them instead of dying.
public enum KVCacheError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A block id outside `0 ..< blockCount`.
    case blockOutOfRange(block: Int32, blockCount: Int)
    /// `free` or `retain` on a block that nobody holds.
    case blockNotAllocated(block: Int32)
    /// A table asked to hold more entries than its blocks cover.
    case entriesBeyondCapacity(requested: Int, capacity: Int)
    /// The configured capacity does not hold a single block.
    case capacityTooSmall(bytes: Int, bytesPerBlock: Int)
    /// A geometry value (block size, block count, layer count, entry width) that is not positive.
    case invalidGeometry(name: String, value: Int)
    /// The element type stores groups of values that a KV head does not divide into.
    case elementTypeUnsupported(elementType: String, headDim: Int, groupSize: Int)

    public var description: String {
        switch self {
        case let .blockOutOfRange(block, blockCount):
            return "KV block \(block) is outside the cache's \(blockCount) blocks; only ids the allocator handed out may be used."
        case let .blockNotAllocated(block):
            return "KV block \(block) is not allocated (freed twice, or never allocated); a block must be freed once per allocate/retain."
        case let .entriesBeyondCapacity(requested, capacity):
            return "a block table was asked to hold \(requested) KV entries but its blocks cover only \(capacity); reserve blocks first."
        case let .capacityTooSmall(bytes, bytesPerBlock):
            return "the KV cache capacity of \(bytes) bytes does not hold one block (\(bytesPerBlock) bytes); raise the KV cache size."
        case let .invalidGeometry(name, value):
            return "KV cache \(name) must be positive, got \(value)."
        case let .elementTypeUnsupported(type, headDim, groupSize):
            return "kv_cache_dtype \(type) stores groups of \(groupSize) values, but this model's KV heads have \(headDim); choose float16, bfloat16 or float32."
        }
    }
}
