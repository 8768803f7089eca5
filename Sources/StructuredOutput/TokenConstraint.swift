import Foundation

/// A compiled `response_format` over one vocabulary: the grammar, and the allowed-token mask of every
/// grammar state met so far (memoised: the masks of a schema's states are computed once, on first
/// use, and shared by every request with the same schema). The engine thread asks for masks and
/// advances per-request `GrammarState`s; API threads share the object through `ConstraintCache`.
///
/// A reference type on purpose: one instance per (schema, vocabulary), shared; the memo is guarded
/// by a lock, the rest is immutable.
public final class TokenConstraint: @unchecked Sendable {
    public let grammar: JSONGrammar
    public let vocabulary: TokenVocabulary
    private let lock = NSLock()
    private var masks: [GrammarState: TokenMask] = [:]
    /// Memo entries kept at most (a free-form schema can reach many number states); then it is cleared.
    static let memoLimit = 50_000

    public init(grammar: JSONGrammar, vocabulary: TokenVocabulary) {
        self.grammar = grammar
        self.vocabulary = vocabulary
    }

    public var initialState: GrammarState { grammar.initialState }

    /// The tokens allowed after `state`: those whose bytes the automaton takes, plus the end ids
    /// when the text so far is complete. A live state that no token continues (possible only with a
    /// vocabulary that lacks some single bytes) allows the end ids, so that generation stops rather
    /// than leaving the grammar.
    public func mask(for state: GrammarState) -> TokenMask {
        lock.lock()
        if let known = masks[state] { lock.unlock(); return known }
        lock.unlock()
        let mask = computeMask(for: state)
        lock.lock()
        if masks.count >= Self.memoLimit { masks.removeAll(keepingCapacity: true) }
        masks[state] = mask
        lock.unlock()
        return mask
    }

    /// Distinct states whose masks are memoised.
    public var memoisedStateCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return masks.count
    }

    /// The state after `token`; nil when the token is not allowed there (the state is then unusable).
    /// An end id leaves the state as it is.
    public func advanced(_ state: GrammarState, by token: Int32) -> GrammarState? {
        guard Int(token) < vocabulary.size, token >= 0 else { return nil }
        guard let bytes = vocabulary.tokenBytes[Int(token)] else {
            return vocabulary.endTokenIds.contains(token) && grammar.isAccepting(state) ? state : nil
        }
        return grammar.advanced(state, by: bytes)
    }

    public func isAccepting(_ state: GrammarState) -> Bool { grammar.isAccepting(state) }

    /// One walk of the vocabulary trie against the automaton, depth first.
    func computeMask(for state: GrammarState) -> TokenMask {
        var mask = TokenMask(size: vocabulary.size)
        if grammar.isAccepting(state) {
            for id in vocabulary.endTokenIds where Int(id) < vocabulary.size { mask.allow(id) }
        }
        let v = vocabulary
        var stack: [(node: Int32, state: GrammarState)] = [(0, state)]
        while let (node, current) = stack.popLast() {
            let start = Int(v.childStart[Int(node)]), count = Int(v.childCount[Int(node)])
            for c in start ..< start + count {
                guard let next = grammar.advanced(current, by: v.childByte[c]) else { continue }
                let child = v.childNode[c]
                for t in Int(v.terminalStart[Int(child)]) ..< Int(v.terminalStart[Int(child) + 1]) { mask.allow(v.terminalIds[t]) }
                if v.childCount[Int(child)] > 0 { stack.append((child, next)) }
            }
        }
        if mask.allowedCount == 0 {
            for id in vocabulary.endTokenIds where Int(id) < vocabulary.size { mask.allow(id) }
        }
        return mask
    }
}

/// Compiled constraints by (schema, vocabulary identity), so that a schema sent again reuses its
/// memoised masks. Bounded: the least recently compiled entries go first.
public final class ConstraintCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [JSONValue: TokenConstraint] = [:]
    private var order: [JSONValue] = []
    private let capacity: Int
    public let vocabulary: TokenVocabulary

    public init(vocabulary: TokenVocabulary, capacity: Int = 64) {
        self.vocabulary = vocabulary
        self.capacity = capacity
    }

    /// The constraint of `schema` (nil: any JSON object), compiled on first use.
    public func constraint(for schema: JSONValue?) throws(StructuredOutputError) -> TokenConstraint {
        let key = schema ?? .string("<json_object>")
        lock.lock()
        if let known = entries[key] { lock.unlock(); return known }
        lock.unlock()
        let grammar = try schema.map { (s) throws(StructuredOutputError) in try JSONSchemaCompiler.compile(s) } ?? JSONSchemaCompiler.anyObject()
        let constraint = TokenConstraint(grammar: grammar, vocabulary: vocabulary)
        lock.lock()
        defer { lock.unlock() }
        if let raced = entries[key] { return raced }
        entries[key] = constraint
        order.append(key)
        if order.count > capacity { entries[order.removeFirst()] = nil }
        return constraint
    }
}

extension TokenConstraint: Equatable, Hashable {
    /// Identity: two constraints are the same when they are the same compiled object.
    public static func == (a: TokenConstraint, b: TokenConstraint) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
