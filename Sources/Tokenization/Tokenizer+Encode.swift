extension Tokenizer {
    /// The token ids of `text`. No BOS is added (see `addsBOSToken`).
    /// - Parameter parseSpecialTokens: when true (the default), control tokens written in the text, such as
    ///   `<|im_start|>`, become their single ids; when false they are encoded as ordinary text (use this for
    ///   untrusted user content). User-defined tokens are matched in both cases, as llama.cpp does.
    public func encode(_ text: String, parseSpecialTokens: Bool = true) -> [Int] {
        let bytes = Array(text.utf8)
        var output: [Int] = []
        output.reserveCapacity(bytes.count / 3 + 1)
        var cache: [String: [Int]] = [:]
        let matcher = parseSpecialTokens ? specialMatcher : userDefinedMatcher
        let segments: [SpecialTokenMatcher.Segment] =
            matcher.isEmpty ? [.text(0..<bytes.count)] : matcher.segments(of: bytes)
        for segment in segments {
            switch segment {
            case .special(let id):
                output.append(id)
            case .text(let range):
                encodePlainText(bytes[range], cache: &cache, into: &output)
            }
        }
        return output
    }

    private func encodePlainText(_ bytes: ArraySlice<UInt8>, cache: inout [String: [Int]], into output: inout [Int]) {
        guard !bytes.isEmpty else { return }
        let scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        var symbols: [Int32] = []
        for word in preTokenizer.split(scalars) {
            let slice = scalars[word]
            var view = String.UnicodeScalarView()
            view.append(contentsOf: slice)
            let key = String(view)
            if let cached = cache[key] {
                output.append(contentsOf: cached)
                continue
            }
            symbols.removeAll(keepingCapacity: true)
            for scalar in slice {
                for byte in scalar.utf8 {
                    let id = byteTokenIDs[Int(byte)]
                    if id >= 0 { symbols.append(id) }
                }
            }
            let start = output.count
            mergeTable.apply(to: symbols, appendingTo: &output)
            cache[key] = Array(output[start...])
        }
    }
}
