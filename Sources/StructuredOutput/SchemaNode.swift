/// One compiled schema node: what a JSON value at this place may be. Nodes live in
/// `JSONGrammar.nodes` and refer to each other by index, so `$ref` cycles (recursive schemas) are
/// plain back references.
public enum SchemaNode: Sendable, Equatable {
    /// An object: `properties[i]` is key literal `keyLiterals[i]` (the JSON-encoded name) with value
    /// node `valueNodes[i]`; `requiredMask` has bit i set when property i is required;
    /// `additional` is the node of any other key's value, nil when other keys are refused.
    case object(ObjectShape)
    /// An array of `items` values, `minItems ... maxItems` of them (nil: no upper bound).
    case array(items: Int32, minItems: Int, maxItems: Int?)
    /// Any JSON string (escapes and UTF-8 checked byte by byte).
    case string
    /// A number; `integer` allows digits only (no fraction or exponent). Bounds are inclusive.
    case number(integer: Bool, minimum: Double?, maximum: Double?)
    /// One of these fixed byte strings (`const`, `enum`, `true`/`false`, `null`), by literal index.
    case literals([Int32])
    /// Any of these nodes (`anyOf`, a list of types, or any JSON value at all).
    case anyOf([Int32])
    /// A placeholder while a `$ref` target is being compiled; never left in a finished grammar.
    case unresolved
}

/// The shape of an object node (see `SchemaNode.object`).
public struct ObjectShape: Sendable, Equatable {
    public var keyLiterals: [Int32]
    public var valueNodes: [Int32]
    public var requiredMask: UInt64
    public var additional: Int32?
}
