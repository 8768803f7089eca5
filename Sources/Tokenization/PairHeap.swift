/// A binary min-heap of candidate merges ordered by (rank, left position): the order in which byte-pair
/// encoding applies merges within a word.
struct PairHeap {
    struct Candidate {
        var rank: Int32
        var left: Int32
        var leftID: Int32
        var rightID: Int32

        func precedes(_ other: Candidate) -> Bool {
            rank != other.rank ? rank < other.rank : left < other.left
        }
    }

    private var storage: [Candidate] = []

    mutating func push(_ candidate: Candidate) {
        storage.append(candidate)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child].precedes(storage[parent]) else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Candidate? {
        guard let last = storage.popLast() else { return nil }
        guard !storage.isEmpty else { return last }
        let top = storage[0]
        storage[0] = last
        var parent = 0
        let count = storage.count
        while true {
            let leftChild = 2 * parent + 1
            guard leftChild < count else { break }
            var best = leftChild
            let rightChild = leftChild + 1
            if rightChild < count && storage[rightChild].precedes(storage[leftChild]) { best = rightChild }
            guard storage[best].precedes(storage[parent]) else { break }
            storage.swapAt(best, parent)
            parent = best
        }
        return top
    }
}
