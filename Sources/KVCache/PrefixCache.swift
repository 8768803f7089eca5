/// Full prompt blocks kept for reuse (automatic prefix caching): a block is named by a chained hash of
/// its tokens and of every token before it, so two prompts that start with the same full blocks share
/// those blocks' K and V instead of computing and storing them twice.
///
/// The cache holds one reference (through the allocator) to every block it knows, so a block outlives
/// the request that wrote it. A block that only the cache holds is *evictable*: it is still findable,
/// but the scheduler may take it back, least recently used first, when it needs memory. Only prompt
/// blocks are ever inserted; decode-time entries (HAMburger's merged groups among them) are never
/// shared. A value type, owned by the scheduler.
public struct PrefixCache: Sendable, Equatable {
    /// One cached block: its tokens (checked on lookup, so a hash collision can never share wrong
    /// entries), the block id, and when it was last used.
    struct Entry: Sendable, Equatable {
        var tokens: [Int32]
        var block: Int32
        var lastUse: Int
    }

    public let blockSize: Int
    private var entries: [UInt64: Entry] = [:]
    private var hashOfBlock: [Int32: UInt64] = [:]
    private var clock = 0

    public init(blockSize: Int) {
        self.blockSize = max(1, blockSize)
    }

    /// Blocks the cache holds a reference to.
    public var blockCount: Int { entries.count }

    /// Whether the cache holds `block`.
    public func contains(block: Int32) -> Bool { hashOfBlock[block] != nil }

    /// Chained 64-bit FNV-1a hashes of the first `blockCount` full blocks of `tokens`: hash i covers
    /// tokens `0 ..< (i + 1) * blockSize`.
    public static func chainedHashes(of tokens: [Int32], blockSize: Int, blockCount: Int) -> [UInt64] {
        var hashes: [UInt64] = []
        hashes.reserveCapacity(blockCount)
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in 0 ..< min(blockCount, tokens.count / blockSize) {
            for token in tokens[b * blockSize ..< (b + 1) * blockSize] {
                var value = UInt32(bitPattern: token)
                for _ in 0 ..< 4 {
                    hash = (hash ^ UInt64(value & 0xFF)) &* 0x100_0000_01B3
                    value >>= 8
                }
            }
            hashes.append(hash)
        }
        return hashes
    }

    /// The cached blocks for the longest run of leading full blocks of `tokens` (at most `maxBlocks`),
    /// each retained once more in `allocator` for the caller, and marked used now.
    public mutating func match(_ tokens: [Int32], maxBlocks: Int, allocator: inout BlockAllocator) -> [Int32] {
        let hashes = Self.chainedHashes(of: tokens, blockSize: blockSize, blockCount: maxBlocks)
        var blocks: [Int32] = []
        clock += 1
        for (b, hash) in hashes.enumerated() {
            guard var entry = entries[hash], entry.tokens == Array(tokens[b * blockSize ..< (b + 1) * blockSize]) else { break }
            do { try allocator.retain(entry.block) } catch { break }
            entry.lastUse = clock
            entries[hash] = entry
            blocks.append(entry.block)
        }
        return blocks
    }

    /// Takes in full block `index` of `tokens` (the prompt it belongs to), stored in `block`: the cache
    /// retains it. A block whose tokens are cached already (another sequence wrote the same prefix) or
    /// a block the cache holds already is left alone.
    public mutating func insert(_ tokens: [Int32], blockIndex index: Int, block: Int32, hash: UInt64,
                                allocator: inout BlockAllocator) {
        guard entries[hash] == nil, hashOfBlock[block] == nil else { return }
        do { try allocator.retain(block) } catch { return }
        clock += 1
        entries[hash] = Entry(tokens: Array(tokens[index * blockSize ..< (index + 1) * blockSize]), block: block, lastUse: clock)
        hashOfBlock[block] = hash
    }

    /// Cached blocks nobody but the cache holds (they can be taken back).
    public func evictableCount(in allocator: BlockAllocator) -> Int {
        entries.values.reduce(0) { $0 + (allocator.referenceCount(of: $1.block) == 1 ? 1 : 0) }
    }

    /// Frees up to `count` evictable blocks, least recently used first; returns how many it freed.
    @discardableResult
    public mutating func evict(_ count: Int, allocator: inout BlockAllocator) -> Int {
        guard count > 0 else { return 0 }
        let victims = entries.filter { allocator.referenceCount(of: $0.value.block) == 1 }
            .sorted { ($0.value.lastUse, $0.value.block) < ($1.value.lastUse, $1.value.block) }
            .prefix(count)
        for (hash, entry) in victims {
            entries[hash] = nil
            hashOfBlock[entry.block] = nil
            try? allocator.free(entry.block)
        }
        return victims.count
    }

    /// Blocks the cache holds, for invariant checks.
    public var heldBlocks: [Int32] { Array(hashOfBlock.keys) }
}
