/// How big the operator wants the KV cache: a byte budget (for K and V of every layer together) or a
/// block count. Resolved into a `KVCacheLayout` once the model's geometry is known.
public enum KVCacheCapacity: Sendable, Equatable {
    /// Bytes of K+V float pages, all layers; rounded down to whole blocks.
    case bytes(Int)
    /// Blocks of `blockSize` entries.
    case blocks(Int)

    /// The layout this capacity gives for a model with `layerCount` layers of `entryWidth` floats
    /// (`kvHeadCount * headDim`) per entry.
    public func layout(layerCount: Int, entryWidth: Int, blockSize: Int) throws(KVCacheError) -> KVCacheLayout {
        guard layerCount > 0 else { throw .invalidGeometry(name: "layer count", value: layerCount) }
        guard entryWidth > 0 else { throw .invalidGeometry(name: "entry width", value: entryWidth) }
        guard blockSize > 0 else { throw .invalidGeometry(name: "block size", value: blockSize) }
        let blockCount: Int
        switch self {
        case let .bytes(bytes):
            blockCount = KVCacheLayout.blockCount(
                fittingBytes: bytes, layerCount: layerCount, entryWidth: entryWidth, blockSize: blockSize)
            guard blockCount > 0 else {
                throw .capacityTooSmall(
                    bytes: bytes, bytesPerBlock: 2 * layerCount * blockSize * entryWidth * MemoryLayout<Float>.stride)
            }
        case let .blocks(count):
            guard count > 0 else { throw .invalidGeometry(name: "block count", value: count) }
            blockCount = count
        }
        return KVCacheLayout(layerCount: layerCount, entryWidth: entryWidth, blockSize: blockSize, blockCount: blockCount)
    }
}
