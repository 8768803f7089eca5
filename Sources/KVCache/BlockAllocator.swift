/// Hands out the KV cache's blocks: a free list plus a reference count per block.
///
/// A value type so that the scheduler (itself a value) can own it and tests can copy and inspect it.
/// A block is free exactly when its reference count is 0; `allocate` gives a block count 1,
/// `retain` shares it (for prefix sharing or forks), and `free` drops one reference, returning the
/// block to the free list when the last one goes. Allocation is deterministic: the lowest-numbered
/// free blocks are handed out first after a fresh start, and freed blocks are reused most recently
/// freed first (they are warm in cache).
public struct BlockAllocator: Sendable, Equatable {
    /// Blocks in the cache.
    public let blockCount: Int
    /// Free block ids; the next allocation pops from the end.
    private var freeList: [Int32]
    /// Holders per block; 0 = free.
    private var referenceCounts: [Int32]

    /// An allocator over `blockCount` blocks, all free.
    public init(blockCount: Int) {
        let count = max(0, blockCount)
        self.blockCount = count
        freeList = (0 ..< Int32(count)).reversed()
        referenceCounts = Array(repeating: 0, count: count)
    }

    /// Blocks nobody holds.
    public var freeCount: Int { freeList.count }
    /// Blocks somebody holds.
    public var usedCount: Int { blockCount - freeList.count }
    /// Whether `count` blocks can be allocated now.
    public func canAllocate(_ count: Int) -> Bool { count <= freeList.count }

    /// Holders of `block` (0 when free or out of range).
    public func referenceCount(of block: Int32) -> Int {
        guard block >= 0, Int(block) < blockCount else { return 0 }
        return Int(referenceCounts[Int(block)])
    }

    /// One free block with reference count 1, or nil when none is free.
    public mutating func allocate() -> Int32? {
        guard let block = freeList.popLast() else { return nil }
        referenceCounts[Int(block)] = 1
        return block
    }

    /// `count` blocks, or nil (and nothing taken) when fewer are free.
    public mutating func allocate(_ count: Int) -> [Int32]? {
        guard count >= 0, canAllocate(count) else { return nil }
        var blocks: [Int32] = []
        blocks.reserveCapacity(count)
        for _ in 0 ..< count {
            guard let block = allocate() else { return nil }
            blocks.append(block)
        }
        return blocks
    }

    /// Adds a holder to an allocated block.
    public mutating func retain(_ block: Int32) throws(KVCacheError) {
        try checkAllocated(block)
        referenceCounts[Int(block)] += 1
    }

    /// Drops one holder; the block returns to the free list when none is left.
    public mutating func free(_ block: Int32) throws(KVCacheError) {
        try checkAllocated(block)
        referenceCounts[Int(block)] -= 1
        if referenceCounts[Int(block)] == 0 { freeList.append(block) }
    }

    /// Drops one holder of each block, in order.
    public mutating func free(_ blocks: [Int32]) throws(KVCacheError) {
        for block in blocks { try free(block) }
    }

    private func checkAllocated(_ block: Int32) throws(KVCacheError) {
        guard block >= 0, Int(block) < blockCount else {
            throw .blockOutOfRange(block: block, blockCount: blockCount)
        }
        guard referenceCounts[Int(block)] > 0 else { throw .blockNotAllocated(block: block) }
    }

    /// Broken invariants, described (empty when all hold): every id on the free list is in range, listed
    /// once and has count 0; every block with count 0 is on the free list; free + used = total.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        var listed = Array(repeating: false, count: blockCount)
        for block in freeList {
            guard block >= 0, Int(block) < blockCount else {
                problems.append("free list holds out-of-range block \(block)")
                continue
            }
            if listed[Int(block)] { problems.append("block \(block) is on the free list twice") }
            listed[Int(block)] = true
            if referenceCounts[Int(block)] != 0 {
                problems.append("block \(block) is free but has \(referenceCounts[Int(block)]) holders")
            }
        }
        for block in 0 ..< blockCount {
            if referenceCounts[block] < 0 { problems.append("block \(block) has a negative count") }
            if referenceCounts[block] == 0 && !listed[block] { problems.append("block \(block) is lost (count 0, not free)") }
        }
        if freeCount + usedCount != blockCount { problems.append("free + used != total") }
        return problems
    }
}
