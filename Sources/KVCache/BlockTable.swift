/// The blocks one sequence's KV entries live in, in order: entry `e` is row `e % blockSize` of block
/// `blocks[e / blockSize]`.
///
/// Counting is in KV entries (one per base forward row), not tokens. Growing is two-phase so that a
/// scheduler can reserve room before a forward pass and count the entries once the pass wrote them:
/// `reserve(entries:from:)` takes the blocks that `entryCount + k` entries need, `commit(_:)` moves
/// `entryCount` forward.
public struct BlockTable: Sendable, Equatable {
    /// Entries per block.
    public let blockSize: Int
    /// Block ids in entry order.
    public private(set) var blocks: [Int32] = []
    /// Entries written (committed).
    public private(set) var entryCount: Int = 0

    public init(blockSize: Int) {
        self.blockSize = max(1, blockSize)
    }

    /// Entries the held blocks can hold.
    public var entryCapacity: Int { blocks.count * blockSize }

    /// Blocks needed to hold `entries` entries in all.
    public static func blocksNeeded(forEntries entries: Int, blockSize: Int) -> Int {
        entries <= 0 ? 0 : (entries + blockSize - 1) / blockSize
    }

    /// New blocks that the next `count` entries (after those committed) need beyond the held ones.
    public func newBlocksNeeded(forAdditionalEntries count: Int) -> Int {
        max(0, Self.blocksNeeded(forEntries: entryCount + count, blockSize: blockSize) - blocks.count)
    }

    /// How many more entries fit in the held blocks plus `freeBlocks` new ones.
    public func entriesFitting(freeBlocks: Int) -> Int {
        (blocks.count + max(0, freeBlocks)) * blockSize - entryCount
    }

    /// Takes from `allocator` the blocks that `count` more entries need. All or nothing: returns false
    /// (and takes nothing) when too few blocks are free.
    public mutating func reserve(additionalEntries count: Int, from allocator: inout BlockAllocator) -> Bool {
        let needed = newBlocksNeeded(forAdditionalEntries: count)
        if needed == 0 { return true }
        guard let fresh = allocator.allocate(needed) else { return false }
        blocks.append(contentsOf: fresh)
        return true
    }

    /// Counts `count` more entries as written; they must fit in the held blocks.
    public mutating func commit(_ count: Int) throws(KVCacheError) {
        guard count >= 0, entryCount + count <= entryCapacity else {
            throw .entriesBeyondCapacity(requested: entryCount + count, capacity: entryCapacity)
        }
        entryCount += count
    }

    /// Returns blocks beyond those the committed entries use (a reservation that was not used).
    public mutating func trimUnused(into allocator: inout BlockAllocator) throws(KVCacheError) {
        let keep = Self.blocksNeeded(forEntries: entryCount, blockSize: blockSize)
        while blocks.count > keep {
            let block = blocks.removeLast()
            try allocator.free(block)
        }
    }

    /// Starts an empty table with `shared` full blocks already written by others (a prefix-cache hit;
    /// the caller holds a reference to each): their entries count as committed.
    public mutating func adopt(shared: [Int32]) {
        precondition(blocks.isEmpty && entryCount == 0, "only an empty table adopts shared blocks")
        blocks = shared
        entryCount = shared.count * blockSize
    }

    /// Drops every block (one reference each) and forgets all entries.
    public mutating func release(into allocator: inout BlockAllocator) throws(KVCacheError) {
        let held = blocks
        blocks = []
        entryCount = 0
        try allocator.free(held)
    }

    /// Where entry `entry` lives: (block id, row inside the block), or nil past the held blocks.
    public func location(ofEntry entry: Int) -> (block: Int32, row: Int)? {
        guard entry >= 0, entry < entryCapacity else { return nil }
        return (blocks[entry / blockSize], entry % blockSize)
    }
}
