#if canImport(Glibc)
import Glibc
#endif

/// The pages of the KV cache, K and V each shaped `[layer][block][entry][entryWidth]` elements of the
/// layout's `elementType` (Float for float32; UInt16 bit patterns for bfloat16 and float16; bytes of
/// 36-byte scale-and-values groups for int8).
///
/// This is run state, apart from the weights: the engine thread owns it, the scheduler decides which
/// blocks a sequence uses (through its block table), and attention reads the pages through that table
/// without copying them into a contiguous buffer. It is `@unchecked Sendable` only so that it can be
/// handed to the engine thread once; it must not be touched from two threads at a time.
public final class KVPages: @unchecked Sendable {
    public let layout: KVCacheLayout
    /// Start of the K pages (raw, bound to the element type's storage).
    public let keys: UnsafeMutableRawPointer
    /// Start of the V pages.
    public let values: UnsafeMutableRawPointer

    public init(layout: KVCacheLayout) {
        self.layout = layout
        let byteCount = max(1, layout.layerCount * layout.bytesPerLayer)
        // calloc: zeroed pages come from the kernel on first touch, so resident memory grows with the
        // entries actually written, not with the configured capacity.
        keys = calloc(byteCount, 1)!
        values = calloc(byteCount, 1)!
        let elements = layout.layerCount * layout.elementsPerLayer
        switch layout.elementType {
        case .float32:
            keys.bindMemory(to: Float.self, capacity: elements)
            values.bindMemory(to: Float.self, capacity: elements)
        case .bfloat16, .float16:
            keys.bindMemory(to: UInt16.self, capacity: elements)
            values.bindMemory(to: UInt16.self, capacity: elements)
        case .int8:
            keys.bindMemory(to: UInt8.self, capacity: byteCount)
            values.bindMemory(to: UInt8.self, capacity: byteCount)
        }
    }

    deinit {
        free(keys)
        free(values)
    }

    /// Start of one block's K page in `layer` (`blockSize * entryWidth` elements).
    @inline(__always)
    public func keyBlock(layer: Int, block: Int) -> UnsafeMutableRawPointer {
        keys + layer * layout.bytesPerLayer + block * layout.bytesPerBlockPage
    }

    /// Start of one block's V page in `layer`.
    @inline(__always)
    public func valueBlock(layer: Int, block: Int) -> UnsafeMutableRawPointer {
        values + layer * layout.bytesPerLayer + block * layout.bytesPerBlockPage
    }
}
