import Testing
@testable import KVCache

@Suite struct BlockAllocatorTests {
    @Test func allocatesEveryBlockOnceThenRunsOut() {
        var allocator = BlockAllocator(blockCount: 8)
        var seen: Set<Int32> = []
        for _ in 0 ..< 8 {
            let block = allocator.allocate()
            #expect(block != nil)
            if let block { #expect(seen.insert(block).inserted, "block \(block) handed out twice") }
        }
        #expect(seen == Set(0 ..< 8))
        #expect(allocator.allocate() == nil)
        #expect(allocator.freeCount == 0)
        #expect(allocator.usedCount == 8)
        #expect(allocator.invariantViolations().isEmpty)
    }

    @Test func freshAllocatorHandsOutLowIdsFirst() {
        var allocator = BlockAllocator(blockCount: 4)
        #expect(allocator.allocate(3) == [0, 1, 2])
    }

    @Test func allocateManyIsAllOrNothing() {
        var allocator = BlockAllocator(blockCount: 5)
        #expect(allocator.allocate(3)?.count == 3)
        #expect(allocator.allocate(3) == nil)
        #expect(allocator.freeCount == 2, "a failed multi-block allocation must take nothing")
        #expect(allocator.canAllocate(2))
        #expect(!allocator.canAllocate(3))
    }

    @Test func freeingReturnsBlocksAndReusesThem() throws {
        var allocator = BlockAllocator(blockCount: 3)
        let allocated = allocator.allocate(3)
        let blocks = try #require(allocated)
        try allocator.free(blocks[1])
        #expect(allocator.freeCount == 1)
        #expect(allocator.referenceCount(of: blocks[1]) == 0)
        #expect(allocator.allocate() == blocks[1])
        #expect(allocator.invariantViolations().isEmpty)
    }

    @Test func doubleFreeAndForeignIdsAreErrors() throws {
        var allocator = BlockAllocator(blockCount: 2)
        let allocated = allocator.allocate()
        let block = try #require(allocated)
        try allocator.free(block)
        #expect(throws: KVCacheError.blockNotAllocated(block: block)) { try allocator.free(block) }
        #expect(throws: KVCacheError.blockOutOfRange(block: 7, blockCount: 2)) { try allocator.free(7) }
        #expect(throws: KVCacheError.blockOutOfRange(block: -1, blockCount: 2)) { try allocator.retain(-1) }
        #expect(throws: KVCacheError.blockNotAllocated(block: 1)) { try allocator.retain(1) }
        #expect(allocator.freeCount == 2)
        #expect(allocator.invariantViolations().isEmpty)
    }

    @Test func sharedBlockIsFreedByItsLastHolder() throws {
        var allocator = BlockAllocator(blockCount: 2)
        let allocated = allocator.allocate()
        let block = try #require(allocated)
        try allocator.retain(block)
        #expect(allocator.referenceCount(of: block) == 2)
        try allocator.free(block)
        #expect(allocator.usedCount == 1, "one holder is left")
        try allocator.free(block)
        #expect(allocator.usedCount == 0)
        #expect(allocator.invariantViolations().isEmpty)
    }

    /// Random allocate / retain / free against a model of who holds what: no block is ever handed to
    /// two owners at once, and free + used = total after every step.
    @Test func randomOperationsKeepInvariants() throws {
        var allocator = BlockAllocator(blockCount: 32)
        var holders: [Int32: Int] = [:]
        var random = SeededRandom(seed: 7)
        for _ in 0 ..< 5_000 {
            switch random.next() % 3 {
            case 0:
                let count = Int(random.next() % 5)
                if let blocks = allocator.allocate(count) {
                    for block in blocks {
                        #expect(holders[block] == nil, "block \(block) allocated while held")
                        holders[block] = 1
                    }
                } else {
                    #expect(count > 32 - holders.count)
                }
            case 1:
                if let block = holders.keys.sorted().randomElement(using: &random) {
                    try allocator.retain(block)
                    holders[block, default: 0] += 1
                }
            default:
                if let block = holders.keys.sorted().randomElement(using: &random) {
                    try allocator.free(block)
                    holders[block]! -= 1
                    if holders[block] == 0 { holders[block] = nil }
                }
            }
            #expect(allocator.usedCount == holders.count)
            #expect(allocator.freeCount + allocator.usedCount == allocator.blockCount)
        }
        for (block, count) in holders { #expect(allocator.referenceCount(of: block) == count) }
        #expect(allocator.invariantViolations().isEmpty)
    }
}

/// A tiny deterministic generator for the tests (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
