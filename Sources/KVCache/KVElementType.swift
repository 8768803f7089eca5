/// How the KV pages store each K and V element: the operator's `kv_cache_dtype`. The 16-bit types halve
/// the cache's memory, so the same byte budget holds twice the entries (and attention reads half the
/// bytes per step), at the cost of rounding every stored value: bfloat16 keeps Float's range with an
/// 8-bit significand, float16 an 11-bit significand with a range up to ±65504. `int8` stores blocks of 32
/// values as 32 signed bytes and one Float scale (1.125 bytes per value, 3.6x the entries of float32).
public enum KVElementType: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// 4 bytes: the values exactly as computed (the default).
    case float32
    /// 2 bytes: bfloat16, rounded to nearest even.
    case bfloat16
    /// 2 bytes: IEEE half, rounded to nearest even.
    case float16
    /// 36 bytes per 32 values: each run of 32 consecutive values of an entry (a KV head's `headDim`
    /// values are whole runs) as int8 multiples of its own scale, max |x| / 127.
    case int8

    /// Values stored together: 32 for `int8` (one scale per run), 1 otherwise. An entry's width and a
    /// KV head's dimension must be multiples of it.
    public var groupSize: Int { self == .int8 ? 32 : 1 }

    /// Bytes `count` consecutive values take (`count` a multiple of `groupSize`).
    public func byteCount(values count: Int) -> Int {
        switch self {
        case .float32: return 4 * count
        case .bfloat16, .float16: return 2 * count
        case .int8: return count / 32 * 36
        }
    }

    /// The configuration name (`float32`, `bfloat16`, `float16`, `int8`).
    public var description: String { rawValue }
}
