/// The scheduler's decision for one engine iteration: which rows of which sequences go into the
/// forward pass, in batch order, and who was preempted to make room.
public struct SchedulePlan: Sendable, Equatable {
    /// A run of consecutive pending entry inputs of one sequence.
    public struct Chunk: Sendable, Equatable {
        public var sequenceId: String
        /// Index of the chunk's first entry input (= entries the sequence holds before this pass).
        public var firstEntry: Int
        public var rowCount: Int
        /// Whether the chunk reaches the newest input, so its last row's logits choose the next token.
        public var wantsOutput: Bool
        /// Whether this is a single-row step of a sequence that had finished its prefill.
        public var isDecode: Bool
        /// Whether every row outputs logits (prompt rows of a request that wants prompt logprobs).
        public var outputsEveryRow: Bool = false

        /// Rows of this chunk in the pass's output.
        public var outputRowCount: Int { outputsEveryRow ? rowCount : (wantsOutput ? 1 : 0) }
    }

    public internal(set) var chunks: [Chunk] = []
    /// Sequences preempted in this iteration (back at the front of the queue).
    public internal(set) var preemptedIds: [String] = []
    /// Sequences admitted from the queue in this iteration.
    public internal(set) var admittedIds: [String] = []

    public init() {}

    public var isEmpty: Bool { chunks.isEmpty }
    /// Rows in the forward pass.
    public var rowCount: Int { chunks.reduce(0) { $0 + $1.rowCount } }
    public var decodeRowCount: Int { chunks.reduce(0) { $0 + ($1.isDecode ? $1.rowCount : 0) } }
    public var prefillRowCount: Int { rowCount - decodeRowCount }
    /// Chunks whose last row produces logits, in batch order.
    public var outputChunks: [Chunk] { chunks.filter(\.wantsOutput) }
    /// Rows of the pass's output (`ForwardOutput.rowCount`).
    public var outputRowCount: Int { chunks.reduce(0) { $0 + $1.outputRowCount } }
}
