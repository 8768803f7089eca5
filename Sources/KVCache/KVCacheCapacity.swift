/// How big the operator wants the KV cache: a byte budget (for K and V of every layer together) or a
/// block count. Resolved into a `KVCacheLayout` once the model's geometry and the element type are known.
public enum KVCacheCapacity: Sendable, Equatable {
    /// Bytes of K+V pages, all layers, in the chosen element type; rounded down to whole blocks (so a
    /// 16-bit element type holds twice the blocks of float32 in the same bytes).
    case bytes(Int)
    /// Blocks of `blockSize` entries.
    case blocks(Int)

    /// The layout this capacity gives for a model with `layerCount` layers of `entryWidth` elements
    /// (`kvHeadCount * headDim`) per entry, each stored as `elementType`. `headDim` (default: the whole
    /// entry) must be a multiple of the element type's group size.
    public func layout(layerCount: Int, entryWidth: Int, headDim: Int? = nil, blockSize: Int,
                       elementType: KVElementType = .float32) throws(KVCacheError) -> KVCacheLayout {
        guard layerCount > 0 else { throw .invalidGeometry(name: "layer count", value: layerCount) }
        guard entryWidth > 0 else { throw .invalidGeometry(name: "entry width", value: entryWidth) }
        let headDim = headDim ?? entryWidth
        guard headDim > 0, entryWidth % headDim == 0, headDim % elementType.groupSize == 0 else {
            throw .elementTypeUnsupported(elementType: elementType.rawValue, headDim: headDim, groupSize: elementType.groupSize)
        }
        guard blockSize > 0 else { throw .invalidGeometry(name: "block size", value: blockSize) }
        let blockCount: Int
        switch self {
        case let .bytes(bytes):
            blockCount = KVCacheLayout.blockCount(
                fittingBytes: bytes, layerCount: layerCount, entryWidth: entryWidth, blockSize: blockSize, elementType: elementType)
            guard blockCount > 0 else {
                throw .capacityTooSmall(
                    bytes: bytes,
                    bytesPerBlock: KVCacheLayout.bytesPerBlock(layerCount: layerCount, entryWidth: entryWidth, blockSize: blockSize,
                                                               elementType: elementType))
            }
        case let .blocks(count):
            guard count > 0 else { throw .invalidGeometry(name: "block count", value: count) }
            blockCount = count
        }
        return KVCacheLayout(layerCount: layerCount, entryWidth: entryWidth, blockSize: blockSize, blockCount: blockCount,
                             elementType: elementType)
    }
}
