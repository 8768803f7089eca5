import XCTest
@testable import Tokenization

/// BPE, special tokens, decoding and construction errors on `TinyVocabulary`, where every expected id is
/// worked out by hand.
final class TinyVocabularyTests: XCTestCase {
    func testMergesApplyByRankAndLeftmostFirst() throws {
        let tokenizer = try TinyVocabulary.make()
        let id = { TinyVocabulary.id(tokenizer, $0) }
        XCTAssertEqual(tokenizer.encode("abc"), [id("abc")])  // a+b (rank 0) first, then ab+c (rank 1)
        XCTAssertEqual(tokenizer.encode("bc"), [id("bc")])
        XCTAssertEqual(tokenizer.encode("cab"), [id("c"), id("ab")])
        XCTAssertEqual(tokenizer.encode("aaa"), [id("aa"), id("a")])  // tie: leftmost pair merges first
        XCTAssertEqual(tokenizer.encode("aaaa"), [id("aa"), id("aa")])
        XCTAssertEqual(tokenizer.encode(" a"), [id("Ġa")])
        XCTAssertEqual(tokenizer.encode("a b"), [id("a"), id("Ġ"), id("b")])  // no "Ġ b" merge
        XCTAssertEqual(tokenizer.encode("ab abc"), [id("ab"), id("Ġ"), id("abc")])  // a+b (rank 0) beats Ġ+a (rank 4)
        XCTAssertEqual(tokenizer.encode(" ac"), [id("Ġa"), id("c")])
        XCTAssertEqual(tokenizer.encode(""), [])
    }

    func testLongWordsMergeLikeShortOnes() throws {
        let tokenizer = try TinyVocabulary.make()
        let aa = TinyVocabulary.id(tokenizer, "aa")
        XCTAssertEqual(tokenizer.encode(String(repeating: "a", count: 10_001)), Array(repeating: aa, count: 5_000) + [TinyVocabulary.id(tokenizer, "a")])
    }

    func testMissingByteTokensAreDroppedBeforeMerging() throws {
        let tokenizer = try TinyVocabulary.make()
        XCTAssertEqual(tokenizer.encode("\u{04}"), [])
        XCTAssertEqual(tokenizer.encode("!\u{04}!"), [TinyVocabulary.id(tokenizer, "!!")])
        XCTAssertEqual(tokenizer.encode("a\u{04}a"), [TinyVocabulary.id(tokenizer, "a"), TinyVocabulary.id(tokenizer, "a")])
    }

    func testSpecialTokensLongestMatchAndTheParseFlag() throws {
        let tokenizer = try TinyVocabulary.make()
        let end = TinyVocabulary.id(tokenizer, "<|end|>"), shorter = TinyVocabulary.id(tokenizer, "<|e")
        let user = TinyVocabulary.id(tokenizer, "<u>")
        XCTAssertEqual(tokenizer.encode("<|end|>"), [end])
        XCTAssertEqual(tokenizer.encode("<|en"), [shorter, TinyVocabulary.id(tokenizer, "n")])
        XCTAssertEqual(tokenizer.encode("ab<|end|>ab"), [TinyVocabulary.id(tokenizer, "ab"), end, TinyVocabulary.id(tokenizer, "ab")])
        let literal = tokenizer.encode("<|end|><u>", parseSpecialTokens: false)
        XCTAssertFalse(literal.contains(end))
        XCTAssertFalse(literal.contains(shorter))
        XCTAssertEqual(literal.last, user, "user-defined tokens are matched even without special parsing")
        XCTAssertEqual(try tokenizer.decode(literal), "<|end|><u>")
        XCTAssertTrue(tokenizer.isSpecial(end))
        XCTAssertFalse(tokenizer.isSpecial(TinyVocabulary.id(tokenizer, "ab")))
    }

    func testDecodeMapsByteLevelSpellingBackToUTF8() throws {
        let tokenizer = try TinyVocabulary.make()
        for text in ["abc aa", "héllo wörld", "日本語 😀\n\t", "<|end|> x"] {
            XCTAssertEqual(try tokenizer.decode(tokenizer.encode(text)), text)
        }
        XCTAssertEqual(try tokenizer.decode([TinyVocabulary.id(tokenizer, "Ġa")]), " a")
        XCTAssertEqual(try tokenizer.decode([TinyVocabulary.id(tokenizer, "<|end|>"), TinyVocabulary.id(tokenizer, "a")], skipSpecialTokens: true), "a")
        XCTAssertThrowsError(try tokenizer.decode([tokenizer.vocabularySize])) { error in
            XCTAssertEqual(error as? TokenizationError, .tokenIDOutOfRange(id: tokenizer.vocabularySize, vocabularySize: tokenizer.vocabularySize))
        }
        XCTAssertThrowsError(try tokenizer.decode([-1]))
    }

    func testConstructionErrors() {
        let tokens = TinyVocabulary.tokens, types = TinyVocabulary.tokenTypes
        func error(_ build: () throws -> Tokenizer) -> TokenizationError? {
            do { _ = try build(); return nil } catch { return error as? TokenizationError }
        }
        XCTAssertEqual(error { try Tokenizer(tokens: [], merges: [], tokenTypes: [], preTokenizer: .gpt2) }, .emptyVocabulary)
        XCTAssertEqual(
            error { try Tokenizer(tokens: tokens, merges: [], tokenTypes: [1], preTokenizer: .gpt2) },
            .tokenTypeCountMismatch(tokenCount: tokens.count, typeCount: 1)
        )
        XCTAssertEqual(
            error { try Tokenizer(tokens: tokens, merges: [], tokenTypes: [9] + types.dropFirst(), preTokenizer: .gpt2) },
            .invalidTokenType(tokenID: 0, value: 9)
        )
        XCTAssertEqual(
            error { try Tokenizer(tokens: tokens, merges: [], tokenTypes: types, preTokenizer: .gpt2, bosTokenID: tokens.count) },
            .specialTokenIDOutOfRange(name: "bos", id: tokens.count, vocabularySize: tokens.count)
        )
        for bad in ["ab", "a  b", "a zz", "b a"] {
            guard case .invalidMerge(let rank, let merge, _) = error({
                try Tokenizer(tokens: tokens, merges: ["a b", bad], tokenTypes: types, preTokenizer: .gpt2)
            }) else { return XCTFail("merge \(bad.debugDescription) was accepted") }
            XCTAssertEqual(rank, 1)
            XCTAssertEqual(merge, bad)
        }
    }

    func testPreTokenizerNames() throws {
        XCTAssertEqual(try PreTokenizer(name: "smollm"), .digitsThenGPT2)
        XCTAssertEqual(try PreTokenizer(name: "gpt2"), .gpt2)
        XCTAssertThrowsError(try PreTokenizer(name: "llama3")) { error in
            XCTAssertEqual(error as? TokenizationError, .unknownPreTokenizer(name: "llama3"))
            XCTAssertTrue("\(error)".contains("smollm"))
        }
    }
}
