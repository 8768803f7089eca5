/// Where one sequence's K and V entries live for one layer: fixed-size blocks in a page array, found
/// through the sequence's block table, and how each element is stored. Attention reads the pages in
/// place (no gather copy) and widens 16-bit and 8-bit elements to Float as it reads them.
public struct PagedKVView {
    /// How a KV page stores one element. 16-bit elements halve the cache's memory (and the bytes that
    /// attention reads per step) at the cost of rounding every stored K and V value.
    public enum Element: Sendable, Equatable, CaseIterable {
        /// IEEE single, the values exactly as computed.
        case float32
        /// bfloat16: the top half of a Float (8-bit exponent, 7-bit mantissa), rounded to nearest even;
        /// relative error at most 2^-9, Float's whole range.
        case bfloat16
        /// IEEE half (5-bit exponent, 10-bit mantissa), rounded to nearest even; relative error at most
        /// 2^-12 for magnitudes in [2^-14, 65504], infinity beyond 65504.
        case float16
        /// Groups of 32 values as int8 multiples of one Float scale per group (max |x| / 127), 36 bytes
        /// per group: error at most half a step, max |x| / 254, per value. Widths and head offsets must be
        /// whole groups.
        case int8

        /// Bytes `count` consecutive values take (for `.int8`, `count` a multiple of 32).
        public func byteCount(values count: Int) -> Int {
            switch self {
            case .float32: return 4 * count
            case .bfloat16, .float16: return 2 * count
            case .int8: return count / 32 * 36
            }
        }
    }

    /// Start of this layer's K pages (`[block][entry][entryWidth]` elements of `element`).
    public var keys: UnsafeRawPointer
    /// Start of this layer's V pages, laid out as `keys`.
    public var values: UnsafeRawPointer
    /// How the pages store each element.
    public var element: Element
    /// Block ids in order; entry `e` lives in block `blockTable[e / blockSize]` at `e % blockSize`.
    public var blockTable: UnsafePointer<Int32>
    public var blockSize: Int
    /// Elements per entry: `kvHeadCount * headDim`.
    public var entryWidth: Int

    /// A view of Float pages.
    public init(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, blockTable: UnsafePointer<Int32>, blockSize: Int, entryWidth: Int) {
        self.init(keys: UnsafeRawPointer(keys), values: UnsafeRawPointer(values), element: .float32,
                  blockTable: blockTable, blockSize: blockSize, entryWidth: entryWidth)
    }

    /// A view of pages whose elements are stored as `element` (bound to Float for `.float32`, to
    /// UInt16 bit patterns for the 16-bit types).
    public init(keys: UnsafeRawPointer, values: UnsafeRawPointer, element: Element, blockTable: UnsafePointer<Int32>,
                blockSize: Int, entryWidth: Int) {
        self.keys = keys
        self.values = values
        self.element = element
        self.blockTable = blockTable
        self.blockSize = blockSize
        self.entryWidth = entryWidth
    }
}
