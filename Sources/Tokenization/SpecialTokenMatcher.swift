/// Finds whole special tokens (such as `<|im_start|>`) in text, so they encode to their single id instead
/// of being spelled out by BPE. At each position the longest token that matches wins.
struct SpecialTokenMatcher: Sendable {
    struct Entry: Sendable {
        var bytes: [UInt8]
        var id: Int
    }

    /// A piece of input: plain text to pre-tokenize, or a matched special token.
    enum Segment: Equatable {
        case text(Range<Int>)
        case special(Int)
    }

    /// Candidates by first byte, longest first.
    private var entriesByFirstByte: [[Entry]] = Array(repeating: [], count: 256)

    var isEmpty: Bool { entriesByFirstByte.allSatisfy(\.isEmpty) }

    init(tokens: [(text: String, id: Int)]) {
        for token in tokens {
            let bytes = Array(token.text.utf8)
            guard let first = bytes.first else { continue }
            entriesByFirstByte[Int(first)].append(Entry(bytes: bytes, id: token.id))
        }
        for index in entriesByFirstByte.indices {
            entriesByFirstByte[index].sort { $0.bytes.count > $1.bytes.count }
        }
    }

    /// Cuts UTF-8 `bytes` into plain-text ranges and special tokens, in order. Every token is valid UTF-8,
    /// so a match starts and ends on scalar boundaries and the text ranges stay valid UTF-8.
    func segments(of bytes: [UInt8]) -> [Segment] {
        var result: [Segment] = []
        var textStart = 0
        var position = 0
        while position < bytes.count {
            if let entry = longestMatch(in: bytes, at: position) {
                if textStart < position { result.append(.text(textStart..<position)) }
                result.append(.special(entry.id))
                position += entry.bytes.count
                textStart = position
            } else {
                position += 1
            }
        }
        if textStart < bytes.count { result.append(.text(textStart..<bytes.count)) }
        return result
    }

    private func longestMatch(in bytes: [UInt8], at position: Int) -> Entry? {
        let candidates = entriesByFirstByte[Int(bytes[position])]
        guard !candidates.isEmpty else { return nil }
        let remaining = bytes.count - position
        for entry in candidates where entry.bytes.count <= remaining {
            var matches = true
            for offset in 1..<entry.bytes.count where bytes[position + offset] != entry.bytes[offset] {
                matches = false
                break
            }
            if matches { return entry }
        }
        return nil
    }
}
