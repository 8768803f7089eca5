extension Tokenizer {
    /// The bytes token `id` stands for (UTF-8 fragments for byte-level tokens; literal text for special
    /// tokens).
    public func bytes(of id: Int) throws(TokenizationError) -> [UInt8] {
        guard decodedBytes.indices.contains(id) else {
            throw .tokenIDOutOfRange(id: id, vocabularySize: vocabularySize)
        }
        return decodedBytes[id]
    }

    /// The text of `ids`. Byte sequences that are not valid UTF-8 (for example a cut-off emoji) become
    /// U+FFFD. `skipSpecialTokens` leaves out control, unknown-type and user-defined tokens.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) throws(TokenizationError) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if skipSpecialTokens && isSpecial(id) { continue }
            bytes.append(contentsOf: try self.bytes(of: id))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
