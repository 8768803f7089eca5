/// What one KV entry of a sequence is computed from: the input of one base forward row.
///
/// Prompt tokens and autoregressive steps are single tokens. A HAMburger macro step feeds the group
/// of tokens emitted by the previous step, merged into one embedding, and writes ONE entry for all of
/// them; that is why the engine counts KV in entries and keeps RoPE positions apart from entry slots.
/// Keeping the group's token ids (not its embedding) lets a preempted sequence be recomputed.
public enum EntryInput: Sendable, Equatable {
    /// A token id, embedded by the base's table.
    case token(Int32)
    /// A group of k >= 2 tokens merged by the HAMburger embedder into one input vector.
    case mergedGroup([Int32])

    /// Tokens this entry stands for (its RoPE position advances by this much).
    public var tokenCount: Int {
        switch self {
        case .token: return 1
        case let .mergedGroup(tokens): return tokens.count
        }
    }
}
