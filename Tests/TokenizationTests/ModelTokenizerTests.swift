import XCTest
import GGUF
import TestSupport
@testable import Tokenization

/// The tokenizer built from the real model file against the transformers golden fixture.
final class ModelTokenizerTests: XCTestCase {
    func testMetadataIsReadFromTheModel() throws {
        let tokenizer = try ModelTokenizer.get().tokenizer
        XCTAssertEqual(tokenizer.vocabularySize, 49152)
        XCTAssertEqual(tokenizer.preTokenizer, .digitsThenGPT2)
        XCTAssertEqual(tokenizer.bosTokenID, 1)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        XCTAssertEqual(tokenizer.unknownTokenID, 0)
        XCTAssertEqual(tokenizer.paddingTokenID, 2)
        XCTAssertFalse(tokenizer.addsBOSToken)
        XCTAssertEqual(tokenizer.tokens[1], "<|im_start|>")
        XCTAssertEqual(tokenizer.tokenTypes[1], .control)
        XCTAssertEqual(tokenizer.id(forToken: "<|im_end|>"), 2)
    }

    func testEveryFixtureStringEncodesToTheReferenceIDs() throws {
        let tokenizer = try ModelTokenizer.get().tokenizer
        let fixture = try TestPaths.loadFixture(TokenizerIDFixture.self, "tokenizer-ids.json")
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 200)
        var mismatches = 0
        for item in fixture.cases {
            let ids = tokenizer.encode(item.text)
            if ids != item.ids {
                mismatches += 1
                XCTFail("\(item.text.debugDescription): got \(ids), reference \(item.ids)")
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testDecodeInvertsEncodeOnFixtureStrings() throws {
        let tokenizer = try ModelTokenizer.get().tokenizer
        let fixture = try TestPaths.loadFixture(TokenizerIDFixture.self, "tokenizer-ids.json")
        var checked = 0
        for item in fixture.cases where Self.isRepresentable(item.text, by: tokenizer) {
            XCTAssertEqual(try tokenizer.decode(tokenizer.encode(item.text)), item.text, item.text.debugDescription)
            XCTAssertEqual(try tokenizer.decode(item.ids), item.text, item.text.debugDescription)
            checked += 1
        }
        XCTAssertGreaterThan(checked, fixture.cases.count * 3 / 4)
    }

    func testSpecialTokensAreParsedOnlyWhenAsked() throws {
        let tokenizer = try ModelTokenizer.get().tokenizer
        XCTAssertEqual(tokenizer.encode("<|im_start|>user\nhi<|im_end|>").first, 1)
        XCTAssertEqual(tokenizer.encode("<|im_start|>user\nhi<|im_end|>").last, 2)
        XCTAssertEqual(tokenizer.encode("a<|endoftext|>b"), tokenizer.encode("a") + [0] + tokenizer.encode("b"))
        let literal = tokenizer.encode("<|im_start|>", parseSpecialTokens: false)
        XCTAssertGreaterThan(literal.count, 1)
        XCTAssertFalse(literal.contains(1))
        XCTAssertEqual(try tokenizer.decode(literal), "<|im_start|>")
        XCTAssertEqual(try tokenizer.decode([1, 2], skipSpecialTokens: true), "")
        XCTAssertEqual(try tokenizer.decode([1]), "<|im_start|>")
    }

    func testDigitsAreSplitOneByOneAsSmolLMDoes() throws {
        let tokenizer = try ModelTokenizer.get().tokenizer
        // Two spaces before digits: the digit split leaves "  " as one word (one token), unlike plain GPT-2.
        let ids = tokenizer.encode("x  12")
        XCTAssertEqual(ids.count, 4)
        XCTAssertEqual(try ids.map { try tokenizer.decode([$0]) }, ["x", "  ", "1", "2"])
    }

    func testStreamingNeverEmitsBrokenUTF8() throws {
        let tokenizer = try ModelTokenizer.get().tokenizer
        let emojiIDs = tokenizer.encode("😀")
        XCTAssertGreaterThan(emojiIDs.count, 1, "the emoji must span several byte tokens for this test")
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        var pieces: [String] = []
        for id in tokenizer.encode("Hi 😀🎉 café 日本") { pieces.append(try stream.append(id)) }
        pieces.append(stream.finish())
        XCTAssertEqual(pieces.joined(), "Hi 😀🎉 café 日本")
        XCTAssertFalse(pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") })

        let fixture = try TestPaths.loadFixture(TokenizerIDFixture.self, "tokenizer-ids.json")
        for item in fixture.cases where Self.isRepresentable(item.text, by: tokenizer) {
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var text = ""
            for id in item.ids {
                let piece = try stream.append(id)
                XCTAssertFalse(piece.unicodeScalars.contains("\u{FFFD}") && !item.text.unicodeScalars.contains("\u{FFFD}"))
                text += piece
            }
            text += stream.finish()
            XCTAssertEqual(text, item.text)
        }
    }

    func testAnUnknownPreTokenizerInTheModelIsAnError() throws {
        var metadata = try ModelTokenizer.get().metadata
        metadata["tokenizer.ggml.pre"] = .string("qwen2")
        XCTAssertThrowsError(try Tokenizer(ggufMetadata: metadata)) { error in
            XCTAssertEqual(error as? TokenizationError, .unknownPreTokenizer(name: "qwen2"))
        }
        metadata["tokenizer.ggml.pre"] = nil
        XCTAssertThrowsError(try Tokenizer(ggufMetadata: metadata)) { error in
            XCTAssertEqual(error as? TokenizationError, .missingMetadata(key: "tokenizer.ggml.pre"))
        }
        metadata["tokenizer.ggml.pre"] = .string("smollm")
        metadata["tokenizer.ggml.model"] = .string("llama")
        XCTAssertThrowsError(try Tokenizer(ggufMetadata: metadata)) { error in
            XCTAssertEqual(error as? TokenizationError, .unsupportedTokenizerModel(name: "llama"))
        }
    }

    /// Whether every byte of `text` has a byte token (SmolLM2 lacks a few control bytes, which encoding
    /// drops, so those texts cannot round-trip).
    static func isRepresentable(_ text: String, by tokenizer: Tokenizer) -> Bool {
        text.utf8.allSatisfy { tokenizer.byteTokenIDs[Int($0)] >= 0 }
    }
}
