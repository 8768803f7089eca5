import Testing
@testable import KVCache

/// The element type of the KV pages: 16-bit types take half the bytes per entry, so the same byte
/// budget holds twice the blocks, and the pages' block addresses step by the element's width.
@Suite struct KVPagesTests {
    @Test func sixteenBitElementsHalveTheBytesPerEntry() {
        let float = KVCacheLayout(layerCount: 30, entryWidth: 192, blockSize: 16, blockCount: 4)
        #expect(float.bytesPerEntry == 46_080)
        for type in [KVElementType.bfloat16, .float16] {
            let half = KVCacheLayout(layerCount: 30, entryWidth: 192, blockSize: 16, blockCount: 4, elementType: type)
            #expect(type.byteCount(values: 10) == 20)
            #expect(half.bytesPerEntry == 23_040)
            #expect(half.byteCount * 2 == float.byteCount)
            #expect(half.entryCapacity == float.entryCapacity)
        }
    }

    @Test func theSameBytesHoldTwiceTheBlocks() throws {
        // The default 256 MiB on SmolLM2 (30 layers, 3 KV heads of 64).
        let budget = KVCacheCapacity.bytes(256 << 20)
        let float = try budget.layout(layerCount: 30, entryWidth: 192, blockSize: 16)
        #expect(float.blockCount == 364)
        for type in [KVElementType.bfloat16, .float16] {
            let half = try budget.layout(layerCount: 30, entryWidth: 192, blockSize: 16, elementType: type)
            #expect(half.blockCount == 728)
            #expect(half.elementType == type)
            #expect(half.byteCount <= 256 << 20)
        }
        // A block count is taken as given whatever the element type.
        #expect(try KVCacheCapacity.blocks(7).layout(layerCount: 2, entryWidth: 8, blockSize: 4, elementType: .bfloat16).blockCount == 7)
    }

    @Test func tooSmallForOneSixteenBitBlockIsRefused() {
        let perBlock = 2 * 2 * 4 * 8 * 2
        #expect(throws: KVCacheError.capacityTooSmall(bytes: perBlock - 1, bytesPerBlock: perBlock)) {
            try KVCacheCapacity.bytes(perBlock - 1).layout(layerCount: 2, entryWidth: 8, blockSize: 4, elementType: .float16)
        }
        #expect(throws: Never.self) {
            try KVCacheCapacity.bytes(perBlock).layout(layerCount: 2, entryWidth: 8, blockSize: 4, elementType: .float16)
        }
    }

    @Test func blockAddressesStepByTheElementWidth() {
        for type in KVElementType.allCases {
            let layout = KVCacheLayout(layerCount: 3, entryWidth: 64, blockSize: 4, blockCount: 5, elementType: type)
            let pages = KVPages(layout: layout)
            let perBlock = 4 * type.byteCount(values: 64)
            #expect(pages.keyBlock(layer: 0, block: 0).distance(to: pages.keyBlock(layer: 0, block: 1)) == perBlock)
            #expect(pages.values.distance(to: pages.valueBlock(layer: 2, block: 3)) == (2 * 5 + 3) * perBlock)
            #expect(layout.byteCount == 2 * 3 * 5 * perBlock)
        }
    }

    @Test func elementTypesHaveTheirConfigurationNames() {
        #expect(KVElementType.allCases.map(\.rawValue) == ["float32", "bfloat16", "float16", "int8"])
        #expect(KVElementType(rawValue: "bf16") == nil)
        #expect("\(KVElementType.float16)" == "float16")
    }

    /// int8 stores 32 values in 36 bytes: SmolLM2's 192-value entry (3 KV heads of 64) takes 216 bytes per
    /// layer instead of 384 (float16) or 768 (float32), so the default 256 MiB holds 1,294 blocks.
    @Test func int8HoldsThreePointFiveTimesTheEntriesOfFloat32() throws {
        let int8 = try KVCacheCapacity.bytes(256 << 20).layout(layerCount: 30, entryWidth: 192, headDim: 64, blockSize: 16,
                                                               elementType: .int8)
        #expect(int8.bytesPerEntryRow == 216)
        #expect(int8.bytesPerEntry == 12_960)
        #expect(int8.blockCount == 1294)
        #expect(int8.byteCount <= 256 << 20)
        #expect(KVElementType.int8.groupSize == 32 && KVElementType.float16.groupSize == 1)
    }

    @Test func int8NeedsHeadsOfWholeGroups() {
        #expect(throws: KVCacheError.elementTypeUnsupported(elementType: "int8", headDim: 48, groupSize: 32)) {
            try KVCacheCapacity.blocks(4).layout(layerCount: 2, entryWidth: 96, headDim: 48, blockSize: 4, elementType: .int8)
        }
        #expect(throws: Never.self) {
            try KVCacheCapacity.blocks(4).layout(layerCount: 2, entryWidth: 96, headDim: 48, blockSize: 4, elementType: .float16)
        }
    }
}
