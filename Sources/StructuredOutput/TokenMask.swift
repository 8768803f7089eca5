/// The tokens allowed next in one grammar state, as a bitset over the vocabulary (bit id set = allowed).
public struct TokenMask: Sendable, Equatable {
    public private(set) var words: [UInt64]
    /// How many tokens are allowed.
    public private(set) var allowedCount: Int = 0
    /// The one allowed token when `allowedCount == 1`.
    public private(set) var onlyToken: Int32?

    init(size: Int) { words = Array(repeating: 0, count: (size + 63) / 64) }

    mutating func allow(_ id: Int32) {
        let (w, b) = (Int(id) >> 6, UInt64(1) << UInt64(id & 63))
        guard words[w] & b == 0 else { return }
        words[w] |= b
        allowedCount += 1
        onlyToken = allowedCount == 1 ? id : nil
    }

    public func allows(_ id: Int32) -> Bool {
        id >= 0 && Int(id) >> 6 < words.count && words[Int(id) >> 6] & (UInt64(1) << UInt64(id & 63)) != 0
    }

    /// Sets every refused token's logit to -infinity. `logits` is `[vocab]`.
    public func apply(to logits: UnsafeMutableBufferPointer<Float>) {
        words.withUnsafeBufferPointer { words in
            for w in words.indices {
                let word = words[w]
                if word == ~0 { continue }
                let base = w << 6
                let end = min(base + 64, logits.count)
                guard base < end else { break }
                for i in base ..< end where word & (UInt64(1) << UInt64(i - base)) == 0 { logits[i] = -.infinity }
            }
        }
        if logits.count > words.count * 64 {
            for i in words.count * 64 ..< logits.count { logits[i] = -.infinity }
        }
    }
}
