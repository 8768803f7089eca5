/// Turns generated token ids into text one id at a time, emitting only complete UTF-8: a character whose
/// bytes are spread over several byte-level tokens (an emoji is often two or more) is held back until its
/// last byte arrives, so a stream never shows a broken sequence. The concatenation of everything it emits,
/// including `finish()`, equals `Tokenizer.decode` of all the ids.
public struct StreamingDetokenizer: Sendable {
    public let tokenizer: Tokenizer
    public let skipSpecialTokens: Bool
    /// Bytes of a character that is not complete yet (at most 3).
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Whether bytes are being held back waiting for the rest of a character.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// Adds one token and returns the text it completes (possibly empty).
    public mutating func append(_ id: Int) throws(TokenizationError) -> String {
        let bytes = try tokenizer.bytes(of: id)
        if skipSpecialTokens && tokenizer.isSpecial(id) { return "" }
        pending.append(contentsOf: bytes)
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Adds several tokens and returns the text they complete.
    public mutating func append(contentsOf ids: [Int]) throws(TokenizationError) -> String {
        var text = ""
        for id in ids { text += try append(id) }
        return text
    }

    /// Ends the stream: returns any held bytes, with U+FFFD for the incomplete character, and resets.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// The length of the longest prefix of `bytes` after which decoding can stop without cutting a
    /// character: everything except a trailing valid-but-unfinished UTF-8 sequence. Invalid bytes are not
    /// held (waiting cannot fix them); they decode to U+FFFD exactly as a whole-text decode would, since
    /// the cut is always just before a lead byte.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let count = bytes.count
        // A sequence is at most 4 bytes, so an unfinished one starts within the last 3.
        var start = count - 1
        while start >= 0 && start >= count - 3 {
            let byte = bytes[start]
            if byte & 0xC0 != 0x80 {  // not a continuation byte: the candidate lead
                let needed = sequenceLength(lead: byte)
                let available = count - start
                if needed > available && isValidPrefix(bytes[start...]) { return start }
                return count
            }
            start -= 1
        }
        return count
    }

    /// The full length of a sequence starting with `lead`, or 1 for ASCII and invalid lead bytes.
    private static func sequenceLength(lead: UInt8) -> Int {
        switch lead {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 1
        }
    }

    /// Whether `prefix` (a lead byte and fewer continuation bytes than it needs) can still become a valid
    /// sequence, honouring the restricted second-byte ranges (no overlongs, surrogates or > U+10FFFF).
    private static func isValidPrefix(_ prefix: ArraySlice<UInt8>) -> Bool {
        guard let lead = prefix.first else { return false }
        var index = prefix.startIndex + 1
        if index < prefix.endIndex {
            let second = prefix[index]
            let range: ClosedRange<UInt8>
            switch lead {
            case 0xE0: range = 0xA0...0xBF
            case 0xED: range = 0x80...0x9F
            case 0xF0: range = 0x90...0xBF
            case 0xF4: range = 0x80...0x8F
            default: range = 0x80...0xBF
            }
            guard range.contains(second) else { return false }
            index += 1
        }
        while index < prefix.endIndex {
            guard prefix[index] & 0xC0 == 0x80 else { return false }
            index += 1
        }
        return true
    }
}
