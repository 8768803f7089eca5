import Testing
@testable import KVCache

/// The prefix cache on its own: chained hashes, longest-prefix matches that check tokens, one
/// reference per cached block, and least-recently-used eviction of blocks only the cache holds.
@Suite struct PrefixCacheTests {
    @Test func hashesChainThroughEveryEarlierBlock() {
        let a: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8]
        let b: [Int32] = [9, 2, 3, 4, 5, 6, 7, 8]
        let ha = PrefixCache.chainedHashes(of: a, blockSize: 4, blockCount: 2)
        let hb = PrefixCache.chainedHashes(of: b, blockSize: 4, blockCount: 2)
        #expect(ha.count == 2)
        #expect(ha[0] != hb[0])
        #expect(ha[1] != hb[1], "the same second block after a different first block is another prefix")
        #expect(PrefixCache.chainedHashes(of: a, blockSize: 4, blockCount: 5).count == 2, "only full blocks")
    }

    @Test func matchesTheLongestCachedPrefixAndRetainsIt() throws {
        var allocator = BlockAllocator(blockCount: 8)
        var cache = PrefixCache(blockSize: 2)
        let prompt: [Int32] = [5, 6, 7, 8, 9, 10]
        let allocated = allocator.allocate(3)
        let blocks = try #require(allocated)
        let hashes = PrefixCache.chainedHashes(of: prompt, blockSize: 2, blockCount: 3)
        for b in 0 ..< 2 { cache.insert(prompt, blockIndex: b, block: blocks[b], hash: hashes[b], allocator: &allocator) }
        #expect(allocator.referenceCount(of: blocks[0]) == 2)
        try allocator.free(blocks)  // the writer ends: the cache alone holds its blocks
        #expect(cache.evictableCount(in: allocator) == 2)

        let hit = cache.match([5, 6, 7, 8, 9, 10, 11], maxBlocks: 3, allocator: &allocator)
        #expect(hit == Array(blocks[0 ..< 2]))
        #expect(allocator.referenceCount(of: blocks[0]) == 2)
        #expect(cache.evictableCount(in: allocator) == 0, "blocks a sequence holds are not evictable")
        #expect(cache.match([5, 6, 0, 0], maxBlocks: 2, allocator: &allocator) == [blocks[0]])
        #expect(cache.match([5, 6, 7, 8], maxBlocks: 1, allocator: &allocator).count == 1, "capped by maxBlocks")
        #expect(cache.match([1, 2], maxBlocks: 1, allocator: &allocator).isEmpty)
        #expect(allocator.invariantViolations().isEmpty)
    }

    @Test func evictsLeastRecentlyUsedBlocksThatOnlyTheCacheHolds() throws {
        var allocator = BlockAllocator(blockCount: 4)
        var cache = PrefixCache(blockSize: 1)
        for token: Int32 in [10, 20, 30] {
            let allocated = allocator.allocate()
            let block = try #require(allocated)
            let hash = PrefixCache.chainedHashes(of: [token], blockSize: 1, blockCount: 1)[0]
            cache.insert([token], blockIndex: 0, block: block, hash: hash, allocator: &allocator)
            try allocator.free(block)
        }
        #expect(allocator.freeCount == 1 && cache.blockCount == 3)
        let held = cache.match([30], maxBlocks: 1, allocator: &allocator)  // sequences hold 30 and 10,
        let alsoHeld = cache.match([10], maxBlocks: 1, allocator: &allocator)  // both used after 20
        #expect(cache.evict(1, allocator: &allocator) == 1)
        #expect(cache.match([20], maxBlocks: 1, allocator: &allocator).isEmpty, "20 was evicted")
        #expect(cache.evict(5, allocator: &allocator) == 0, "the others are held")
        try allocator.free(held + alsoHeld)
        #expect(cache.evict(5, allocator: &allocator) == 2)
        #expect(cache.blockCount == 0 && allocator.freeCount == 4)
        #expect(allocator.invariantViolations().isEmpty)
    }
}
