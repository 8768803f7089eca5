/// One base forward pass over many sequences at once: every row is one input vector (a token id, or
/// a precomputed embedding such as a HAMburger merged group) at its own RoPE position, and writes one
/// KV entry into its sequence's pages.
///
/// Rows of one sequence are contiguous and in order. Row `i` of a slice writes KV slot
/// `cachedEntryCount + i` (slots are dense: slot index = entry count) and attends to slots
/// `0 ... cachedEntryCount + i`. The RoPE position of a row is independent of its slot: with HAMburger
/// a merged group of k tokens sits at `previous position + k` while taking one slot.
public struct ForwardBatch: Sendable {
    /// What a row feeds into layer 0.
    public enum RowInput: Sendable, Equatable {
        /// A token id, looked up in the embedding table.
        case token(Int32)
        /// A ready embedding of length `hiddenSize` (e.g. a merged HAMburger group).
        case embedding([Float])
    }

    /// The rows of one sequence in this batch and where its KV entries live.
    public struct Slice: Sendable, Equatable {
        /// Block ids of the sequence's pages, in order; must cover `cachedEntryCount + rowCount` entries.
        public var blockTable: [Int32]
        /// KV entries the sequence already holds before this batch.
        public var cachedEntryCount: Int
        /// Index of the slice's first row in `inputs` / `positions`.
        public var rowStart: Int
        /// Rows of this slice (a prefill chunk has many, a decode step one).
        public var rowCount: Int
        /// Whether the caller wants logits (and features) for the slice's last row.
        public var wantsOutput: Bool
        /// Whether every row of the slice produces output (prompt logprobs), in row order; the last
        /// of them is then the row `wantsOutput` asks for.
        public var outputsEveryRow: Bool

        public init(blockTable: [Int32], cachedEntryCount: Int, rowStart: Int, rowCount: Int, wantsOutput: Bool,
                    outputsEveryRow: Bool = false) {
            self.outputsEveryRow = outputsEveryRow
            self.blockTable = blockTable
            self.cachedEntryCount = cachedEntryCount
            self.rowStart = rowStart
            self.rowCount = rowCount
            self.wantsOutput = wantsOutput
        }
    }

    public var inputs: [RowInput]
    /// RoPE position of each row.
    public var positions: [Int32]
    public var slices: [Slice]
    /// Base layers (0-based) whose output residual stream is returned for each output row, in order.
    /// The normed final hidden state is always available as `ForwardOutput.finalNormed`.
    public var featureLayers: [Int]
    /// Per row, whether its input merges k >= 2 tokens (a HAMburger group); empty = no row is merged.
    /// Only flagged rows get `mergeLoRA`'s deltas.
    public var mergedRows: [Bool]
    /// HAMburger's merge-only LoRA, applied to the rows flagged in `mergedRows` (nil: none).
    public var mergeLoRA: LoRAAdapter?

    public init(inputs: [RowInput], positions: [Int32], slices: [Slice], featureLayers: [Int] = [],
                mergedRows: [Bool] = [], mergeLoRA: LoRAAdapter? = nil) {
        self.inputs = inputs
        self.positions = positions
        self.slices = slices
        self.featureLayers = featureLayers
        self.mergedRows = mergedRows
        self.mergeLoRA = mergeLoRA
    }

    /// Indices of the rows that get merge-only LoRA deltas (empty without an adapter).
    public var loraRowIndices: [Int] {
        guard mergeLoRA != nil else { return [] }
        return mergedRows.indices.filter { mergedRows[$0] }
    }

    public var rowCount: Int { inputs.count }
    /// Slices whose last row produces output, in slice order.
    public var outputSliceIndices: [Int] { slices.indices.filter { slices[$0].wantsOutput } }
    /// The rows that produce output, in order: every row of an `outputsEveryRow` slice, else the last
    /// row of a slice that wants output.
    public var outputRows: [Int] {
        slices.flatMap { slice -> [Int] in
            if slice.outputsEveryRow { return Array(slice.rowStart ..< slice.rowStart + slice.rowCount) }
            return slice.wantsOutput ? [slice.rowStart + slice.rowCount - 1] : []
        }
    }
}

/// What one forward pass returns for the output rows (the last row of each slice that wants output),
/// in slice order.
public struct ForwardOutput: Sendable {
    /// Number of output rows.
    public var rowCount: Int
    /// `[rowCount][vocabSize]` logits.
    public var logits: [Float]
    /// `[rowCount][hiddenSize]` final hidden state after the final RMSNorm (what the LM head reads).
    public var finalNormed: [Float]
    /// `[rowCount][featureLayers.count][hiddenSize]` residual stream after each requested layer.
    public var features: [Float]

    public init(rowCount: Int, logits: [Float], finalNormed: [Float], features: [Float]) {
        self.rowCount = rowCount
        self.logits = logits
        self.finalNormed = finalNormed
        self.features = features
    }
}
