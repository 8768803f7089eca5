/// One level of the JSON pushdown automaton's stack (innermost last in `GrammarStack.frames`).
enum GrammarFrame: Hashable, Sendable {
    /// The root: `done` once its value is complete (then only the end of output may follow).
    case root(done: Bool)
    /// Before a value of `node` (whitespace allowed); replaced by the value's own frame on its first byte.
    case value(node: Int32)
    /// Inside fixed bytes `literal` (`const`, `enum`, a key name, `true`...), `position` bytes matched.
    case literal(id: Int32, position: Int32)
    /// Inside a free string; `mode`: 0 plain, 1 after `\`, 2...5 hex digits of `\u` still to come
    /// (5 - mode + 1), 10...12 UTF-8 continuation bytes still to come (mode - 9).
    case string(mode: UInt8)
    /// Inside a number (see `NumberCursor`).
    case number(NumberCursor)
    /// Inside an object: `phase`, the properties `seen` so far (bit i), and the property whose key or
    /// value is being read (-1: an additional property).
    case object(node: Int32, phase: ObjectPhase, seen: UInt64, property: Int32)
    /// Inside an array: `phase` and the items completed so far.
    case array(node: Int32, phase: ArrayPhase, count: Int32)
}

/// Where an object is between its braces.
enum ObjectPhase: UInt8, Hashable, Sendable {
    /// After `{`: a key or `}`.
    case open
    /// A key is being read (a literal or a free string frame is above this one).
    case inKey
    /// After a key: `:`.
    case afterKey
    /// A value is being read (its frame is above this one).
    case inValue
    /// After a value: `,` or `}`.
    case afterValue
    /// After `,`: a key.
    case afterComma
}

/// Where an array is between its brackets.
enum ArrayPhase: UInt8, Hashable, Sendable {
    case open, inValue, afterValue, afterComma
}

/// One configuration of the automaton: the frame stack and the length of the current whitespace run
/// (capped, so that a model cannot pad with blanks forever).
struct GrammarStack: Hashable, Sendable {
    var frames: [GrammarFrame]
    var whitespace: UInt8
}
