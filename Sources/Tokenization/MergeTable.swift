/// The BPE merge rules of a vocabulary as a lookup from an adjacent token pair to its rank (priority:
/// lower merges first) and the token the merge produces, plus the algorithm that applies them to one word.
struct MergeTable: Sendable {
    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    private var merges: [UInt64: Merge] = [:]

    /// Builds the table from `"left right"` rules, rank = index. Every rule must name two vocabulary tokens
    /// whose concatenation is also a token; a later duplicate of a pair keeps the earlier (lower) rank.
    init(rules: [String], idForToken: [String: Int32]) throws(TokenizationError) {
        merges.reserveCapacity(rules.count)
        for (rank, rule) in rules.enumerated() {
            let parts = rule.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .invalidMerge(rank: rank, merge: rule, reason: "it must be two tokens separated by one space")
            }
            let left = String(parts[0]), right = String(parts[1])
            guard let leftID = idForToken[left], let rightID = idForToken[right] else {
                throw .invalidMerge(rank: rank, merge: rule, reason: "'\(idForToken[left] == nil ? left : right)' is not in the vocabulary")
            }
            guard let resultID = idForToken[left + right] else {
                throw .invalidMerge(rank: rank, merge: rule, reason: "the merged token '\(left + right)' is not in the vocabulary")
            }
            let key = Self.key(leftID, rightID)
            if merges[key] == nil { merges[key] = Merge(rank: Int32(rank), result: resultID) }
        }
    }

    var count: Int { merges.count }

    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        merges[Self.key(left, right)]
    }

    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Applies the merges to a word given as its initial symbols (one token per byte) and appends the
    /// resulting ids to `output`. At each step the lowest-rank adjacent pair merges, the leftmost one on a
    /// tie; a heap of candidate pairs with lazy invalidation makes long words (whitespace runs, base64)
    /// O(n log n) instead of quadratic.
    func apply(to symbols: [Int32], appendingTo output: inout [Int]) {
        let count = symbols.count
        if count < 2 {
            for id in symbols { output.append(Int(id)) }
            return
        }
        var ids = symbols
        var next = Array(1...count)  // next[i] == count: end of word
        var previous = Array(-1..<(count - 1))
        var alive = [Bool](repeating: true, count: count)
        var heap = PairHeap()
        for index in 0..<(count - 1) {
            if let merge = merge(ids[index], ids[index + 1]) {
                heap.push(.init(rank: merge.rank, left: Int32(index), leftID: ids[index], rightID: ids[index + 1]))
            }
        }
        while let candidate = heap.popMin() {
            let left = Int(candidate.left)
            guard alive[left], ids[left] == candidate.leftID else { continue }
            let right = next[left]
            guard right < count, ids[right] == candidate.rightID,
                  let merge = merge(candidate.leftID, candidate.rightID) else { continue }
            // Merge `right` into `left`.
            ids[left] = merge.result
            alive[right] = false
            let after = next[right]
            next[left] = after
            if after < count { previous[after] = left }
            let before = previous[left]
            if before >= 0, let pair = self.merge(ids[before], ids[left]) {
                heap.push(.init(rank: pair.rank, left: Int32(before), leftID: ids[before], rightID: ids[left]))
            }
            if after < count, let pair = self.merge(ids[left], ids[after]) {
                heap.push(.init(rank: pair.rank, left: Int32(left), leftID: ids[left], rightID: ids[after]))
            }
        }
        var index = 0
        while index < count {
            output.append(Int(ids[index]))
            index = next[index]
        }
    }
}
