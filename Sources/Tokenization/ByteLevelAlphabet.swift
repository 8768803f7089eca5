/// GPT-2's reversible map between the 256 byte values and 256 printable Unicode scalars. Byte-level BPE
/// vocabularies spell every token in these scalars, so that any byte string (including broken UTF-8) has a
/// token spelling without control characters or spaces.
///
/// The printable bytes `!`...`~`, `¡`...`¬` and `®`...`ÿ` stand for themselves; the other 68 bytes, in
/// increasing order, take the scalars U+0100, U+0101, ... (so the space 0x20 is `Ġ` U+0120).
enum ByteLevelAlphabet {
    /// `scalar[b]` spells byte `b`.
    static let scalarForByte: [Unicode.Scalar] = {
        var result = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isSelfSpelled(UInt8(byte)) {
                result[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                result[byte] = Unicode.Scalar(next) ?? " "  // 256..<324 are all valid scalars
                next += 1
            }
        }
        return result
    }()

    /// The byte a scalar spells, or nil for scalars outside the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value < 256 { return isSelfSpelled(UInt8(value)) ? UInt8(value) : nil }
        guard value < 256 + 68 else { return nil }
        return byteForExtraScalar[Int(value - 256)]
    }

    private static func isSelfSpelled(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The bytes spelled by U+0100 + index.
    private static let byteForExtraScalar: [UInt8] = (0..<256).map { UInt8($0) }.filter { !isSelfSpelled($0) }
}
