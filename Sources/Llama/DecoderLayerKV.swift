import Kernels

/// Where the rows of one decoder-layer pass store their K and V entries and what each attends to: one
/// layer's pages (blocks of `blockSize` entries of `element`), and per row its sequence's block table
/// and the slot it writes. Row r writes slot `rowEntry[r]` and attends to slots `0 ... rowEntry[r]`.
///
/// The same view serves the base model's paged cache (`LlamaModel.forward`) and the micro decoder's
/// per-macro-step cache (one block per sequence), so both run one decoder-layer function.
public struct DecoderLayerKV {
    /// This layer's K pages (block 0); blocks are contiguous.
    public var keys: UnsafeMutableRawPointer
    /// This layer's V pages, laid out as `keys`.
    public var values: UnsafeMutableRawPointer
    public var element: PagedKVView.Element
    public var blockSize: Int
    /// Every row's block table, concatenated: row r's starts at `blockTables[rowTableStart[r]]`.
    public var blockTables: [Int32]
    public var rowTableStart: [Int]
    /// The KV slot each row writes (slot index = entries its sequence held before it).
    public var rowEntry: [Int]

    public init(keys: UnsafeMutableRawPointer, values: UnsafeMutableRawPointer, element: PagedKVView.Element, blockSize: Int,
                blockTables: [Int32], rowTableStart: [Int], rowEntry: [Int]) {
        self.keys = keys
        self.values = values
        self.element = element
        self.blockSize = blockSize
        self.blockTables = blockTables
        self.rowTableStart = rowTableStart
        self.rowEntry = rowEntry
    }

    /// Entries the longest row attends to.
    var maxEntryCount: Int { (rowEntry.max() ?? -1) + 1 }
}

/// HAMburger's merge-only LoRA for one pass: the adapter and the rows (merged groups) it applies to.
public struct MergeLoRARows {
    public var adapter: LoRAAdapter
    public var rows: [Int]

    public init(adapter: LoRAAdapter, rows: [Int]) {
        self.adapter = adapter
        self.rows = rows
    }
}
