/// The tokenizer's vocabulary as the constraint needs it: each token's bytes in a trie, so that the
/// tokens allowed in a grammar state are found by one walk that shares every common prefix and
/// abandons a branch at its first refused byte. Special tokens (no byte spelling in the text) are
/// left out, except the end-of-output ids, which are allowed exactly in accepting states.
public struct TokenVocabulary: Sendable {
    /// Token count (mask width).
    public let size: Int
    /// Ids that end the output (EOS, end of turn).
    public let endTokenIds: [Int32]
    // Trie in flat arrays: node 0 is the root; a node's children are `childStart[n] ..< childStart[n] + childCount[n]`
    // in `childByte`/`childNode`; `terminalIds[n]` lists the tokens spelled by the path to node n.
    let childStart: [Int32]
    let childCount: [UInt16]
    let childByte: [UInt8]
    let childNode: [Int32]
    let terminalStart: [Int32]
    let terminalIds: [Int32]
    /// Each token's bytes (nil: special, never generated under a constraint unless it ends the output).
    public let tokenBytes: [[UInt8]?]

    /// `tokenBytes[id]`: the bytes of token id, or nil for special tokens.
    public init(tokenBytes: [[UInt8]?], endTokenIds: [Int32]) {
        size = tokenBytes.count
        self.endTokenIds = endTokenIds
        self.tokenBytes = tokenBytes
        // Sort ids by their bytes, then build the trie breadth-first-free by a recursive range split.
        let ids = tokenBytes.indices.filter { tokenBytes[$0].map { !$0.isEmpty } ?? false }
            .sorted { tokenBytes[$0]!.lexicographicallyPrecedes(tokenBytes[$1]!) }
        var childStart: [Int32] = [], childCount: [UInt16] = [], childByte: [UInt8] = [], childNode: [Int32] = []
        var terminalStart: [Int32] = [], terminalIds: [Int32] = []
        // Nodes are created in depth-first order; each node's child list is reserved when it is built.
        struct Pending { var node: Int; var lo: Int; var hi: Int; var depth: Int }
        func newNode() -> Int {
            childStart.append(0); childCount.append(0); terminalStart.append(0)
            return childStart.count - 1
        }
        var nodeTerminals: [[Int32]] = []
        _ = newNode()
        nodeTerminals.append([])
        var work = [Pending(node: 0, lo: 0, hi: ids.count, depth: 0)]
        while let p = work.popLast() {
            var i = p.lo
            // Tokens that end exactly at this depth are terminals of this node.
            while i < p.hi, tokenBytes[ids[i]]!.count == p.depth {
                nodeTerminals[p.node].append(Int32(ids[i]))
                i += 1
            }
            var groups: [(byte: UInt8, lo: Int, hi: Int)] = []
            while i < p.hi {
                let byte = tokenBytes[ids[i]]![p.depth]
                var j = i + 1
                while j < p.hi, tokenBytes[ids[j]]![p.depth] == byte { j += 1 }
                groups.append((byte, i, j))
                i = j
            }
            childStart[p.node] = Int32(childByte.count)
            childCount[p.node] = UInt16(groups.count)
            for g in groups {
                let child = newNode()
                nodeTerminals.append([])
                childByte.append(g.byte)
                childNode.append(Int32(child))
                work.append(Pending(node: child, lo: g.lo, hi: g.hi, depth: p.depth + 1))
            }
        }
        for n in nodeTerminals.indices {
            terminalStart[n] = Int32(terminalIds.count)
            terminalIds += nodeTerminals[n]
        }
        terminalStart.append(Int32(terminalIds.count))
        self.childStart = childStart
        self.childCount = childCount
        self.childByte = childByte
        self.childNode = childNode
        self.terminalStart = terminalStart
        self.terminalIds = terminalIds
    }

    /// Trie nodes (for diagnostics and benchmarks).
    public var nodeCount: Int { childStart.count }
}
