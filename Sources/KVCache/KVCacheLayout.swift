/// Geometry of the paged KV cache: how many layers, how wide one entry is, how the entries are grouped
/// into fixed-size blocks, and how each element is stored. Counting is in KV **entries** (one per base
/// forward row), not tokens: with HAMburger decoding one entry can stand for several generated tokens.
public struct KVCacheLayout: Sendable, Equatable {
    /// Transformer layers that each keep their own K and V pages.
    public var layerCount: Int
    /// Elements in one entry of one layer: `kvHeadCount * headDim`.
    public var entryWidth: Int
    /// Entries per block (default 16).
    public var blockSize: Int
    /// Blocks in the whole cache.
    public var blockCount: Int
    /// How each element is stored (default float32).
    public var elementType: KVElementType

    public init(layerCount: Int, entryWidth: Int, blockSize: Int = 16, blockCount: Int, elementType: KVElementType = .float32) {
        precondition(layerCount > 0 && entryWidth > 0 && blockSize > 0 && blockCount > 0)
        precondition(entryWidth % elementType.groupSize == 0, "an entry holds whole groups of the element type")
        self.layerCount = layerCount
        self.entryWidth = entryWidth
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.elementType = elementType
    }

    /// Elements in one block of one layer (K or V alone).
    public var elementsPerBlock: Int { blockSize * entryWidth }
    /// Elements in one layer's K (or V) pages.
    public var elementsPerLayer: Int { blockCount * elementsPerBlock }
    /// Bytes of one block of one layer (K or V alone).
    public var bytesPerBlockPage: Int { blockSize * bytesPerEntryRow }
    /// Bytes of one entry of one layer (K or V alone).
    public var bytesPerEntryRow: Int { elementType.byteCount(values: entryWidth) }
    /// Bytes of one layer's K (or V) pages.
    public var bytesPerLayer: Int { blockCount * bytesPerBlockPage }
    /// Bytes one KV entry takes: K and V, all layers.
    public var bytesPerEntry: Int { 2 * layerCount * bytesPerEntryRow }
    /// Bytes taken by K and V together, all layers.
    public var byteCount: Int { 2 * layerCount * bytesPerLayer }
    /// Total entries the cache can hold.
    public var entryCapacity: Int { blockCount * blockSize }

    /// Bytes one block takes: K and V, all layers.
    public static func bytesPerBlock(layerCount: Int, entryWidth: Int, blockSize: Int, elementType: KVElementType = .float32) -> Int {
        2 * layerCount * blockSize * elementType.byteCount(values: entryWidth)
    }

    /// How many blocks fit in `bytes` of K+V memory.
    public static func blockCount(fittingBytes bytes: Int, layerCount: Int, entryWidth: Int, blockSize: Int,
                                  elementType: KVElementType = .float32) -> Int {
        let perBlock = bytesPerBlock(layerCount: layerCount, entryWidth: entryWidth, blockSize: blockSize, elementType: elementType)
        return perBlock > 0 ? max(0, bytes / perBlock) : 0
    }
}
