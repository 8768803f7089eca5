import Testing
@testable import KVCache

@Suite struct KVCacheCapacityTests {
    @Test func bytesRoundDownToWholeBlocks() throws {
        // One block: 2 (K,V) * 30 layers * 16 entries * 192 floats * 4 bytes = 737,280 bytes.
        let perBlock = 2 * 30 * 16 * 192 * 4
        let layout = try KVCacheCapacity.bytes(10 * perBlock + perBlock / 2).layout(layerCount: 30, entryWidth: 192, blockSize: 16)
        #expect(layout.blockCount == 10)
        #expect(layout.byteCount == 10 * perBlock)
        #expect(layout.entryCapacity == 160)
    }

    @Test func blocksAreTakenAsGiven() throws {
        let layout = try KVCacheCapacity.blocks(7).layout(layerCount: 2, entryWidth: 8, blockSize: 4)
        #expect(layout.blockCount == 7)
        #expect(layout.elementsPerBlock == 32)
    }

    @Test func tooSmallOrInvalidCapacitiesAreRefused() {
        #expect(throws: KVCacheError.capacityTooSmall(bytes: 100, bytesPerBlock: 2 * 2 * 4 * 8 * 4)) {
            try KVCacheCapacity.bytes(100).layout(layerCount: 2, entryWidth: 8, blockSize: 4)
        }
        #expect(throws: KVCacheError.invalidGeometry(name: "block count", value: 0)) {
            try KVCacheCapacity.blocks(0).layout(layerCount: 2, entryWidth: 8, blockSize: 4)
        }
        #expect(throws: KVCacheError.invalidGeometry(name: "block size", value: 0)) {
            try KVCacheCapacity.blocks(3).layout(layerCount: 2, entryWidth: 8, blockSize: 0)
        }
        let message = KVCacheError.capacityTooSmall(bytes: 100, bytesPerBlock: 512).description
        #expect(message.contains("raise the KV cache size"))
    }
}
