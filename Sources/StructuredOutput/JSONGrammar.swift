/// A compiled JSON grammar: schema nodes and the fixed byte strings they match, with the byte-level
/// pushdown automaton that reads JSON text against them (`GrammarState`).
///
/// Nondeterminism (`anyOf`, `enum` alternatives, a key that may be any of several property names) is
/// kept as a small set of stacks, so the automaton never guesses: a byte is allowed when at least one
/// stack can take it. Immutable and `Sendable`; built by `JSONSchemaCompiler`.
public struct JSONGrammar: Sendable {
    public let nodes: [SchemaNode]
    public let literals: [[UInt8]]
    public let root: Int32
    /// The longest whitespace run allowed between tokens of the JSON text.
    public static let maxWhitespaceRun: UInt8 = 8

    init(nodes: [SchemaNode], literals: [[UInt8]], root: Int32) {
        self.nodes = nodes
        self.literals = literals
        self.root = root
    }

    /// Before the first byte.
    public var initialState: GrammarState {
        GrammarState(stacks: [GrammarStack(frames: [.root(done: false), .value(node: root)], whitespace: 0)])
    }

    /// The state after `byte`, or nil when no stack can take it.
    public func advanced(_ state: GrammarState, by byte: UInt8) -> GrammarState? {
        // Fast path: a plain byte inside a free string changes nothing.
        if state.stacks.count == 1, case .string(mode: 0)? = state.stacks[0].frames.last,
           byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            return state
        }
        var out: [GrammarStack] = []
        for stack in state.stacks { step(stack, byte, into: &out) }
        return out.isEmpty ? nil : GrammarState(stacks: out)
    }

    /// The state after every byte of `bytes`, or nil.
    public func advanced(_ state: GrammarState, by bytes: [UInt8]) -> GrammarState? {
        var current = state
        for byte in bytes {
            guard let next = advanced(current, by: byte) else { return nil }
            current = next
        }
        return current
    }

    /// Whether the text read so far is a complete value of the root schema (the end of output may come).
    public func isAccepting(_ state: GrammarState) -> Bool {
        state.stacks.contains { accepts($0) }
    }

    private func accepts(_ stack: GrammarStack) -> Bool {
        var s = stack
        while let top = s.frames.last {
            switch top {
            case let .root(done): return done
            case let .number(cursor):
                guard case let .number(integer, minimum, maximum) = nodes[Int(cursor.node)],
                      cursor.isComplete(integer: integer, minimum: minimum, maximum: maximum) else { return false }
                s.frames.removeLast()
                complete(&s)
            default: return false
            }
        }
        return false
    }

    private static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }

    /// Whitespace in a place that allows it: the same stack with a longer run, or nothing past the cap.
    private func whitespace(_ stack: GrammarStack, into out: inout [GrammarStack]) {
        guard stack.whitespace < Self.maxWhitespaceRun else { return }
        var s = stack
        s.whitespace += 1
        insert(s, into: &out)
    }

    private func insert(_ stack: GrammarStack, into out: inout [GrammarStack]) {
        if !out.contains(stack) { out.append(stack) }
    }

    /// Marks the frame on top of `stack` as having received its completed child.
    private func complete(_ stack: inout GrammarStack) {
        guard let top = stack.frames.popLast() else { return }
        switch top {
        case .root: stack.frames.append(.root(done: true))
        case let .object(node, phase, seen, property):
            if phase == .inKey {
                stack.frames.append(.object(node: node, phase: .afterKey, seen: seen, property: property))
            } else {
                let bit: UInt64 = property >= 0 ? 1 << UInt64(property) : 0
                stack.frames.append(.object(node: node, phase: .afterValue, seen: seen | bit, property: -1))
            }
        case let .array(node, _, count): stack.frames.append(.array(node: node, phase: .afterValue, count: count + 1))
        default: stack.frames.append(top)  // unreachable: only containers and the root have children
        }
    }

    private func step(_ stack: GrammarStack, _ b: UInt8, into out: inout [GrammarStack]) {
        guard let top = stack.frames.last else { return }
        var s = stack
        let ws = Self.isWhitespace(b)
        if !ws { s.whitespace = 0 }
        switch top {
        case .root:
            return
        case let .value(node):
            if ws { whitespace(stack, into: &out); return }
            s.frames.removeLast()
            start(Int(node), b, s, into: &out)
        case let .literal(id, position):
            let bytes = literals[Int(id)]
            guard bytes[Int(position)] == b else { return }
            s.frames.removeLast()
            if Int(position) + 1 == bytes.count { complete(&s) } else { s.frames.append(.literal(id: id, position: position + 1)) }
            insert(s, into: &out)
        case let .string(mode):
            guard let next = Self.stringMode(after: mode, b) else { return }
            s.frames.removeLast()
            if next == 255 { complete(&s) } else { s.frames.append(.string(mode: next)) }
            insert(s, into: &out)
        case let .number(cursor):
            guard case let .number(integer, minimum, maximum) = nodes[Int(cursor.node)] else { return }
            if let next = cursor.advanced(b, integer: integer, minimum: minimum, maximum: maximum) {
                var t = s
                t.frames[t.frames.count - 1] = .number(next)
                insert(t, into: &out)
            }
            if cursor.isComplete(integer: integer, minimum: minimum, maximum: maximum) {
                var t = stack
                t.frames.removeLast()
                complete(&t)
                step(t, b, into: &out)
            }
        case let .object(node, phase, seen, property):
            guard case let .object(shape) = nodes[Int(node)] else { return }
            if ws, phase != .inKey, phase != .inValue { whitespace(stack, into: &out); return }
            s.frames.removeLast()
            switch phase {
            case .open, .afterComma:
                if b == UInt8(ascii: "}"), phase == .open, shape.requiredMask == 0 {
                    complete(&s)
                    insert(s, into: &out)
                } else if b == UInt8(ascii: "\"") {
                    for (i, key) in shape.keyLiterals.enumerated() where seen & (1 << UInt64(i)) == 0 {
                        var t = s
                        t.frames.append(.object(node: node, phase: .inKey, seen: seen, property: Int32(i)))
                        t.frames.append(.literal(id: key, position: 1))
                        insert(t, into: &out)
                    }
                    if shape.additional != nil {
                        var t = s
                        t.frames.append(.object(node: node, phase: .inKey, seen: seen, property: -1))
                        t.frames.append(.string(mode: 0))
                        insert(t, into: &out)
                    }
                }
            case .afterKey:
                guard b == UInt8(ascii: ":") else { return }
                let valueNode = property >= 0 ? shape.valueNodes[Int(property)] : shape.additional!
                s.frames.append(.object(node: node, phase: .inValue, seen: seen, property: property))
                s.frames.append(.value(node: valueNode))
                insert(s, into: &out)
            case .afterValue:
                if b == UInt8(ascii: "}"), shape.requiredMask & ~seen == 0 {
                    complete(&s)
                    insert(s, into: &out)
                } else if b == UInt8(ascii: ","), shape.additional != nil || seen & allBits(shape.keyLiterals.count) != allBits(shape.keyLiterals.count) {
                    s.frames.append(.object(node: node, phase: .afterComma, seen: seen, property: -1))
                    insert(s, into: &out)
                }
            case .inKey, .inValue:
                return  // a child frame is on top of these
            }
        case let .array(node, phase, count):
            guard case let .array(items, minItems, maxItems) = nodes[Int(node)] else { return }
            if ws, phase != .inValue { whitespace(stack, into: &out); return }
            s.frames.removeLast()
            let roomForMore = maxItems.map { Int(count) < $0 } ?? true
            switch phase {
            case .open, .afterComma:
                if phase == .open, b == UInt8(ascii: "]"), minItems == 0 {
                    complete(&s)
                    insert(s, into: &out)
                    return
                }
                guard roomForMore else { return }
                s.frames.append(.array(node: node, phase: .inValue, count: count))
                start(Int(items), b, s, into: &out)
            case .afterValue:
                if b == UInt8(ascii: "]"), Int(count) >= minItems {
                    complete(&s)
                    insert(s, into: &out)
                } else if b == UInt8(ascii: ","), roomForMore {
                    s.frames.append(.array(node: node, phase: .afterComma, count: count))
                    insert(s, into: &out)
                }
            case .inValue:
                return
            }
        }
    }

    private func allBits(_ n: Int) -> UInt64 { n >= 64 ? ~0 : (1 << UInt64(n)) - 1 }

    /// The first byte `b` of a value of `node`, on top of `stack` (whose value frame is already popped).
    private func start(_ node: Int, _ b: UInt8, _ stack: GrammarStack, into out: inout [GrammarStack]) {
        var s = stack
        switch nodes[node] {
        case .object:
            guard b == UInt8(ascii: "{") else { return }
            s.frames.append(.object(node: Int32(node), phase: .open, seen: 0, property: -1))
            insert(s, into: &out)
        case .array:
            guard b == UInt8(ascii: "[") else { return }
            s.frames.append(.array(node: Int32(node), phase: .open, count: 0))
            insert(s, into: &out)
        case .string:
            guard b == UInt8(ascii: "\"") else { return }
            s.frames.append(.string(mode: 0))
            insert(s, into: &out)
        case let .number(integer, minimum, maximum):
            guard let cursor = NumberCursor(node: Int32(node)).advanced(b, integer: integer, minimum: minimum, maximum: maximum) else { return }
            s.frames.append(.number(cursor))
            insert(s, into: &out)
        case let .literals(ids):
            for id in ids where literals[Int(id)].first == b {
                var t = s
                if literals[Int(id)].count == 1 { complete(&t) } else { t.frames.append(.literal(id: id, position: 1)) }
                insert(t, into: &out)
            }
        case let .anyOf(children):
            for child in children { start(Int(child), b, stack, into: &out) }
        case .unresolved:
            return
        }
    }

    /// The string mode after byte `b` in `mode`; 255 = the closing quote; nil = not allowed.
    static func stringMode(after mode: UInt8, _ b: UInt8) -> UInt8? {
        switch mode {
        case 0:
            switch b {
            case UInt8(ascii: "\""): return 255
            case UInt8(ascii: "\\"): return 1
            case 0 ..< 0x20: return nil
            case 0x20 ..< 0x80: return 0
            case 0xC2 ... 0xDF: return 10
            case 0xE0 ... 0xEF: return 11
            case 0xF0 ... 0xF4: return 12
            default: return nil
            }
        case 1:
            if b == UInt8(ascii: "u") { return 2 }
            return Array("\"\\/bfnrt".utf8).contains(b) ? 0 : nil
        case 2 ... 5:
            let hex = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
            return hex ? (mode == 5 ? 0 : mode + 1) : nil
        case 10 ... 12:
            guard b >= 0x80, b <= 0xBF else { return nil }
            return mode == 10 ? 0 : mode - 1
        default:
            return nil
        }
    }
}

/// Where the automaton is: one or more live stacks (more than one only while alternatives are open).
public struct GrammarState: Hashable, Sendable {
    var stacks: [GrammarStack]
}
