import Testing
@testable import KVCache

@Suite struct BlockTableTests {
    @Test func blocksNeededRoundsUp() {
        #expect(BlockTable.blocksNeeded(forEntries: 0, blockSize: 16) == 0)
        #expect(BlockTable.blocksNeeded(forEntries: 1, blockSize: 16) == 1)
        #expect(BlockTable.blocksNeeded(forEntries: 16, blockSize: 16) == 1)
        #expect(BlockTable.blocksNeeded(forEntries: 17, blockSize: 16) == 2)
    }

    @Test func growsBlockByBlockAsEntriesArrive() throws {
        var allocator = BlockAllocator(blockCount: 10)
        var table = BlockTable(blockSize: 4)
        #expect(table.newBlocksNeeded(forAdditionalEntries: 1) == 1)
        #expect(table.reserve(additionalEntries: 6, from: &allocator))
        #expect(table.blocks.count == 2)
        try table.commit(6)
        #expect(table.entryCount == 6)
        #expect(table.newBlocksNeeded(forAdditionalEntries: 2) == 0, "entries 7 and 8 fit block 2")
        #expect(table.newBlocksNeeded(forAdditionalEntries: 3) == 1)
        #expect(table.newBlocksNeeded(forAdditionalEntries: 10) == 2, "16 entries fill 4 blocks")
        #expect(table.newBlocksNeeded(forAdditionalEntries: 11) == 3)
        #expect(table.entriesFitting(freeBlocks: 1) == 6)
        #expect(table.reserve(additionalEntries: 1, from: &allocator))
        #expect(table.blocks.count == 2, "no new block when the last one has room")
        try table.commit(1)
        #expect(table.reserve(additionalEntries: 2, from: &allocator))
        try table.commit(2)
        #expect(table.blocks.count == 3)
        #expect(allocator.usedCount == 3)
    }

    @Test func locatesEntriesThroughTheTable() throws {
        var allocator = BlockAllocator(blockCount: 4)
        _ = allocator.allocate() // make the table's ids differ from their positions
        var table = BlockTable(blockSize: 4)
        #expect(table.reserve(additionalEntries: 5, from: &allocator))
        let second = try #require(table.location(ofEntry: 5))
        #expect(second.block == table.blocks[1])
        #expect(second.row == 1)
        #expect(table.location(ofEntry: 8) == nil)
        #expect(table.location(ofEntry: -1) == nil)
    }

    @Test func reserveFailsCleanlyWhenBlocksRunOut() {
        var allocator = BlockAllocator(blockCount: 2)
        var table = BlockTable(blockSize: 4)
        #expect(!table.reserve(additionalEntries: 9, from: &allocator))
        #expect(table.blocks.isEmpty)
        #expect(allocator.freeCount == 2)
    }

    @Test func commitBeyondReservationIsAnError() throws {
        var allocator = BlockAllocator(blockCount: 2)
        var table = BlockTable(blockSize: 4)
        #expect(table.reserve(additionalEntries: 3, from: &allocator))
        #expect(throws: KVCacheError.entriesBeyondCapacity(requested: 5, capacity: 4)) { try table.commit(5) }
        try table.commit(4)
        #expect(table.entryCount == 4)
    }

    @Test func releaseAndTrimReturnBlocks() throws {
        var allocator = BlockAllocator(blockCount: 8)
        var table = BlockTable(blockSize: 4)
        #expect(table.reserve(additionalEntries: 12, from: &allocator))
        try table.commit(5)
        try table.trimUnused(into: &allocator)
        #expect(table.blocks.count == 2)
        #expect(allocator.usedCount == 2)
        try table.release(into: &allocator)
        #expect(table.blocks.isEmpty)
        #expect(table.entryCount == 0)
        #expect(allocator.freeCount == 8)
        #expect(allocator.invariantViolations().isEmpty)
    }
}
