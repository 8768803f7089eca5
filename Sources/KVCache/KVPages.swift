#if canImport(Glibc)
import Glibc
#endif

/// Geometry of the paged KV cache: how many layers, how wide one entry is, and how the entries are
/// grouped into fixed-size blocks. Counting is in KV **entries** (one per base forward row), not tokens:
/// with HAMburger decoding one entry can stand for several generated tokens.
public struct KVCacheLayout: Sendable, Equatable {
    /// Transformer layers that each keep their own K and V pages.
    public var layerCount: Int
    /// Floats in one entry of one layer: `kvHeadCount * headDim`.
    public var entryWidth: Int
    /// Entries per block (default 16).
    public var blockSize: Int
    /// Blocks in the whole cache.
    public var blockCount: Int

    public init(layerCount: Int, entryWidth: Int, blockSize: Int = 16, blockCount: Int) {
        precondition(layerCount > 0 && entryWidth > 0 && blockSize > 0 && blockCount > 0)
        self.layerCount = layerCount
        self.entryWidth = entryWidth
        self.blockSize = blockSize
        self.blockCount = blockCount
    }

    /// Floats in one block of one layer (K or V alone).
    public var floatsPerBlock: Int { blockSize * entryWidth }
    /// Floats in one layer's K (or V) pages.
    public var floatsPerLayer: Int { blockCount * floatsPerBlock }
    /// Bytes taken by K and V together, all layers.
    public var byteCount: Int { 2 * layerCount * floatsPerLayer * MemoryLayout<Float>.stride }
    /// Total entries the cache can hold.
    public var entryCapacity: Int { blockCount * blockSize }

    /// How many blocks fit in `bytes` of K+V memory.
    public static func blockCount(fittingBytes bytes: Int, layerCount: Int, entryWidth: Int, blockSize: Int) -> Int {
        let perBlock = 2 * layerCount * blockSize * entryWidth * MemoryLayout<Float>.stride
        return max(0, bytes / perBlock)
    }
}

/// The float pages of the KV cache, K and V each shaped `[layer][block][entry][entryWidth]`.
///
/// This is run state, apart from the weights: the engine thread owns it, the scheduler decides which
/// blocks a sequence uses (through its block table), and attention reads the pages through that table
/// without copying them into a contiguous buffer. It is `@unchecked Sendable` only so that it can be
/// handed to the engine thread once; it must not be touched from two threads at a time.
public final class KVPages: @unchecked Sendable {
    public let layout: KVCacheLayout
    public let keys: UnsafeMutablePointer<Float>
    public let values: UnsafeMutablePointer<Float>

    public init(layout: KVCacheLayout) {
        self.layout = layout
        let count = layout.layerCount * layout.floatsPerLayer
        // calloc: zeroed pages come from the kernel on first touch, so resident memory grows with the
        // entries actually written, not with the configured capacity.
        keys = calloc(count, MemoryLayout<Float>.stride)!.bindMemory(to: Float.self, capacity: count)
        values = calloc(count, MemoryLayout<Float>.stride)!.bindMemory(to: Float.self, capacity: count)
    }

    deinit {
        free(keys)
        free(values)
    }

    /// Start of one block's K page in `layer`.
    @inline(__always)
    public func keyBlock(layer: Int, block: Int) -> UnsafeMutablePointer<Float> {
        keys + layer * layout.floatsPerLayer + block * layout.floatsPerBlock
    }

    /// Start of one block's V page in `layer`.
    @inline(__always)
    public func valueBlock(layer: Int, block: Int) -> UnsafeMutablePointer<Float> {
        values + layer * layout.floatsPerLayer + block * layout.floatsPerBlock
    }
}
