/// How the KV pages store each K and V element: the operator's `kv_cache_dtype`. The 16-bit types halve
/// the cache's memory, so the same byte budget holds twice the entries (and attention reads half the
/// bytes per step), at the cost of rounding every stored value: bfloat16 keeps Float's range with an
/// 8-bit significand, float16 an 11-bit significand with a range up to ±65504.
public enum KVElementType: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// 4 bytes: the values exactly as computed (the default).
    case float32
    /// 2 bytes: bfloat16, rounded to nearest even.
    case bfloat16
    /// 2 bytes: IEEE half, rounded to nearest even.
    case float16

    /// Bytes one element takes.
    public var byteWidth: Int { self == .float32 ? 4 : 2 }

    /// The configuration name (`float32`, `bfloat16`, `float16`).
    public var description: String { rawValue }
}
