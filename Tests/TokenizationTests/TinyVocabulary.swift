@testable import Tokenization

/// A hand-made byte-level vocabulary small enough to reason about: all byte tokens except 0x04, a few
/// merges with known ranks, a control token, a shorter control token sharing its prefix, and a
/// user-defined token.
enum TinyVocabulary {
    static let merges = ["a b", "ab c", "b c", "a a", "Ġ a", "! !"]
    static let extra = ["ab", "abc", "bc", "aa", "Ġa", "!!"]
    static let control = ["<|end|>", "<|e"]
    static let userDefined = "<u>"

    static var tokens: [String] {
        let bytes = ByteLevelAlphabet.scalarForByte.enumerated().filter { $0.offset != 0x04 }.map { String(Character($0.element)) }
        return bytes + extra + control + [userDefined]
    }

    static var tokenTypes: [Int] {
        Array(repeating: 1, count: 255 + extra.count) + Array(repeating: 3, count: control.count) + [4]
    }

    static func make(_ preTokenizer: PreTokenizer = .gpt2) throws -> Tokenizer {
        try Tokenizer(tokens: tokens, merges: merges, tokenTypes: tokenTypes, preTokenizer: preTokenizer, eosTokenID: 0)
    }

    /// The id of a token spelled `text` (byte-level spelling for normal tokens).
    static func id(_ tokenizer: Tokenizer, _ text: String) -> Int {
        tokenizer.id(forToken: text) ?? -1
    }
}
