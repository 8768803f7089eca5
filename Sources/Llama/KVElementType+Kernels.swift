import KVCache
import Kernels

extension KVElementType {
    /// The kernels' name for this storage type (`KVCache` and `Kernels` do not import each other).
    public var pageElement: PagedKVView.Element {
        switch self {
        case .float32: return .float32
        case .bfloat16: return .bfloat16
        case .float16: return .float16
        case .int8: return .int8
        }
    }
}
